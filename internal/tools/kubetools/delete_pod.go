package kubetools

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/resolve"
	"github.com/opsagent/opsagent/internal/tools"
)

// DeletePodArgs are delete_pod's arguments.
type DeletePodArgs struct {
	Name      string `json:"name" description:"Pod name"`
	Namespace string `json:"namespace,omitempty" description:"Default: current namespace"`
}

// Validate implements tools.Validator.
func (a DeletePodArgs) Validate() error {
	if err := CheckName("name", a.Name); err != nil {
		return err
	}
	return CheckNamespace(a.Namespace)
}

// DeletePodResult reports a deleted pod.
type DeletePodResult struct {
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
	// Owner is the controller that owns the pod ("deployment/x via
	// replicaset/x-5d9"); empty for a bare pod.
	Owner        string `json:"owner,omitempty"`
	WillRecreate bool   `json:"willBeRecreated"`
	Message      string `json:"message"`
}

// DeletePod declares delete_pod.
func DeletePod(c *kube.Clients) tools.Tool {
	return tools.Define(NameDeletePod,
		"Delete a pod (its controller recreates it).",
		tools.Destructive,
		func(ctx context.Context, a DeletePodArgs) (tools.Action, error) { return prepareDeletePod(ctx, c, a) })
}

func prepareDeletePod(ctx context.Context, c *kube.Clients, a DeletePodArgs) (tools.Action, error) {
	ns := NamespaceFor(c, a.Namespace)
	rp, err := resolvePods(ctx, c, ns, a.Name)
	if err != nil {
		return nil, err
	}
	if len(rp.Pods) > 1 {
		// Deleting is not something to guess about: which pod is the
		// caller's choice.
		cands := make([]resolve.Candidate, len(rp.Pods))
		for i, p := range rp.Pods {
			cands[i] = resolve.Candidate{Kind: "pod", Name: p.Name}
		}
		return nil, fmt.Errorf("%w: %s has %d pods: %s; name the pod to delete",
			tools.ErrAmbiguous, rp.Via.describe(), len(rp.Pods), resolve.List(cands))
	}
	pod := rp.Pods[0]
	owner, recreate, fate := podFate(ctx, c, &pod)
	status := podSummary(&pod).reason
	plan := tools.Preview{
		Summary: fmt.Sprintf("pod/%s in %s (%s): delete; %s", pod.Name, ns, status, fate),
		Targets: []tools.Target{{Kind: "Pod", Namespace: ns, Name: pod.Name}},
	}
	apply := func(ctx context.Context) (any, error) {
		// The UID precondition makes sure the pod deleted is the one
		// previewed, not a successor that took its name (StatefulSet
		// pods do). A resourceVersion precondition would fail on every
		// status update, which running pods get all the time.
		uid := pod.UID
		err := c.Typed.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		switch {
		case apierrors.IsConflict(err):
			return nil, fmt.Errorf("%w: pod %s in %s was replaced since you approved; re-run to see the new state", tools.ErrConflict, pod.Name, ns)
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("%w: pod %s in %s no longer exists; nothing was deleted", tools.ErrConflict, pod.Name, ns)
		case err != nil:
			return nil, fmt.Errorf("delete pod %s in %s: %w", pod.Name, ns, err)
		}
		return &DeletePodResult{Pod: pod.Name, Namespace: ns, Owner: owner, WillRecreate: recreate,
			Message: fmt.Sprintf("pod %s deleted; %s", pod.Name, fate)}, nil
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// podFate names the pod's controller, following a ReplicaSet up to its
// Deployment, and says what happens after the pod is deleted.
func podFate(ctx context.Context, c *kube.Clients, p *corev1.Pod) (owner string, recreate bool, fate string) {
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		owner = "node/" + p.Spec.NodeName
		return owner, true, "it is a static pod: the kubelet on " + owner + " recreates it from its manifest"
	}
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return "", false, "it is a bare pod with no controller: it will be gone for good"
	}
	owner = strings.ToLower(ref.Kind) + "/" + ref.Name
	replaced := "its controller " + owner + " will create a replacement"
	switch ref.Kind {
	case "ReplicaSet":
		rs, err := c.Typed.AppsV1().ReplicaSets(p.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil {
			if up := metav1.GetControllerOf(rs); up != nil {
				owner = strings.ToLower(up.Kind) + "/" + up.Name + " via " + owner
				replaced = "its controller " + owner + " will create a replacement"
			}
		}
		return owner, true, replaced
	case "StatefulSet", "DaemonSet", "ReplicationController":
		return owner, true, replaced
	case "Job":
		if p.Status.Phase == corev1.PodSucceeded {
			return owner, false, "it belongs to " + owner + " and has already succeeded: it will not be replaced"
		}
		return owner, true, "its " + owner + " will start a replacement if it still needs completions"
	}
	return owner, false, "it is owned by " + owner + ", which may or may not replace it"
}

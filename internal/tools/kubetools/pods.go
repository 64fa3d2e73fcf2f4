package kubetools

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/resolve"
	"github.com/opsagent/opsagent/internal/tools"
)

// podKinds are the workloads whose pods a pod-level tool accepts by the
// workload's name.
var podKinds = []workloadKind{kindDeployment, kindStatefulSet, kindDaemonSet}

// resolvedPods is what a name meant at the pod level: the pod itself, or the
// pods of the workload it names.
type resolvedPods struct {
	// Via is the workload the pods were found through; empty when name
	// was a pod.
	Via  *workloadRef
	Pods []corev1.Pod
}

// resolvePods finds the pod called name, or else the pods of the workload
// name refers to (through the shared resolver). A name that is neither is
// ErrNotFound, saying both were tried.
func resolvePods(ctx context.Context, c *kube.Clients, ns, name string) (resolvedPods, error) {
	kind, bare := resolve.SplitKind(name)
	if k, _ := resolve.LookupKind(kind); kind == "" || k.Kind == "Pod" {
		p, err := c.Typed.CoreV1().Pods(ns).Get(ctx, resolve.NormalizeName(bare), metav1.GetOptions{})
		switch {
		case err == nil:
			return resolvedPods{Pods: []corev1.Pod{*p}}, nil
		case !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err):
			return resolvedPods{}, fmt.Errorf("get pod %s in %s: %w", bare, ns, err)
		case kind != "":
			return resolvedPods{}, fmt.Errorf("%w: no pod named %q in namespace %s (list_resources kind=pods lists them)", tools.ErrNotFound, bare, ns)
		}
	}
	ref, err := resolveWorkload(ctx, c, ns, "", name, podKinds)
	if err != nil {
		return resolvedPods{}, fmt.Errorf("no pod named %q in namespace %s, so it was looked up as a workload: %w", bare, ns, err)
	}
	w, err := getWorkload(ctx, c, ref)
	if err != nil {
		return resolvedPods{}, err
	}
	pods, err := w.pods(ctx, c)
	if err != nil {
		return resolvedPods{}, err
	}
	if len(pods) == 0 {
		return resolvedPods{}, fmt.Errorf("%w: %s has no pods right now (%s); get_resource or list_events on it shows why",
			tools.ErrNotFound, ref.describe(), w.progress().Message)
	}
	return resolvedPods{Via: &ref, Pods: pods}, nil
}

// sortForTroubleshooting orders pods so the one most worth reading comes
// first. kubectl logs deploy/x prefers a healthy pod; someone asking an ops
// agent for logs is usually chasing a failure, so: pods on a node (they
// have logs) first, then not-ready ones, then the most restarted, then the
// newest.
func sortForTroubleshooting(pods []corev1.Pod) {
	slices.SortStableFunc(pods, func(a, b corev1.Pod) int {
		if c := cmpBool(a.Spec.NodeName != "", b.Spec.NodeName != ""); c != 0 {
			return c
		}
		if c := cmpBool(!podReady(&a), !podReady(&b)); c != 0 {
			return c
		}
		if c := cmp.Compare(podSummary(&b).restarts, podSummary(&a).restarts); c != 0 {
			return c
		}
		return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
	})
}

// cmpBool orders true before false.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

func podNames(pods []corev1.Pod) []string {
	out := make([]string, len(pods))
	for i := range pods {
		out[i] = pods[i].Name
	}
	return out
}

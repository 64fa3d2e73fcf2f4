package kubetools

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/opsagent/opsagent/internal/kube"
)

// WorkloadDetail summarises a Deployment, StatefulSet, DaemonSet or
// ReplicaSet: how far its rollout is, what it runs and its pods.
type WorkloadDetail struct {
	Progress   RolloutProgress `json:"progress"`
	Revision   string          `json:"revision,omitempty"`
	Strategy   string          `json:"strategy,omitempty"`
	Selector   string          `json:"selector"`
	Paused     bool            `json:"paused,omitempty"`
	Conditions []Condition     `json:"conditions,omitempty"`
	Containers []ContainerInfo `json:"containers"`
	Volumes    []string        `json:"volumes,omitempty"`
	Pods       []Row           `json:"pods"`
	PodsNote   string          `json:"podsNote,omitempty"`
}

// maxDescribePods bounds the pods listed in a workload description; the
// not-ready ones are listed first since they are what needs explaining.
const maxDescribePods = 10

// describeWorkload builds the detail and returns the UIDs of the pods and
// ReplicaSets it owns, whose events belong to its story.
func describeWorkload(ctx context.Context, c *kube.Clients, u *unstructured.Unstructured) (*WorkloadDetail, []string, error) {
	var (
		d    = &WorkloadDetail{}
		tmpl *corev1.PodTemplateSpec
		sel  *metav1.LabelSelector
	)
	switch u.GetKind() {
	case "Deployment":
		var o appsv1.Deployment
		if err := fromUnstructured(u, &o); err != nil {
			return nil, nil, err
		}
		d.Progress, d.Revision, d.Strategy, d.Paused = deploymentProgress(&o), o.Annotations[revisionAnnotation], string(o.Spec.Strategy.Type), o.Spec.Paused
		for _, c := range o.Status.Conditions {
			d.Conditions = append(d.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
		}
		tmpl, sel = &o.Spec.Template, o.Spec.Selector
	case "StatefulSet":
		var o appsv1.StatefulSet
		if err := fromUnstructured(u, &o); err != nil {
			return nil, nil, err
		}
		d.Progress, d.Revision, d.Strategy = statefulSetProgress(&o), o.Status.UpdateRevision, string(o.Spec.UpdateStrategy.Type)
		for _, c := range o.Status.Conditions {
			d.Conditions = append(d.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
		}
		tmpl, sel = &o.Spec.Template, o.Spec.Selector
	case "DaemonSet":
		var o appsv1.DaemonSet
		if err := fromUnstructured(u, &o); err != nil {
			return nil, nil, err
		}
		d.Progress, d.Strategy = daemonSetProgress(&o), string(o.Spec.UpdateStrategy.Type)
		for _, c := range o.Status.Conditions {
			d.Conditions = append(d.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
		}
		tmpl, sel = &o.Spec.Template, o.Spec.Selector
	case "ReplicaSet":
		var o appsv1.ReplicaSet
		if err := fromUnstructured(u, &o); err != nil {
			return nil, nil, err
		}
		d.Progress, d.Revision = replicaSetProgress(&o), o.Annotations[revisionAnnotation]
		for _, c := range o.Status.Conditions {
			d.Conditions = append(d.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
		}
		tmpl, sel = &o.Spec.Template, o.Spec.Selector
	default:
		return nil, nil, fmt.Errorf("%s is not a workload kind", u.GetKind())
	}
	d.Containers, d.Volumes = containerInfos(&tmpl.Spec), volumeStrings(tmpl.Spec.Volumes)
	d.Pods = []Row{}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || selector.Empty() {
		d.Selector = "<invalid or empty>"
		return d, nil, nil
	}
	d.Selector = selector.String()
	pods, err := listPods(ctx, c, u.GetNamespace(), selector)
	if err != nil {
		return nil, nil, err
	}
	var owned []string
	if u.GetKind() == "Deployment" {
		owned = ownedReplicaSetUIDs(ctx, c, u.GetNamespace(), u.GetUID(), selector)
	}
	// Not-ready pods first: they are the ones a question is usually about.
	slices.SortStableFunc(pods, func(a, b corev1.Pod) int {
		ra, rb := podReady(&a), podReady(&b)
		switch {
		case ra == rb:
			return 0
		case !ra:
			return -1
		}
		return 1
	})
	for i := range pods {
		owned = append(owned, string(pods[i].UID))
		if i < maxDescribePods {
			r := podRow(&pods[i])
			r.Namespace = "" // the workload's
			d.Pods = append(d.Pods, r)
		}
	}
	if len(pods) > maxDescribePods {
		d.PodsNote = fmt.Sprintf("showing %d of %d pods (not ready first); list_resources kind=pods selector=%s shows all", maxDescribePods, len(pods), d.Selector)
	}
	return d, owned, nil
}

// ownedReplicaSetUIDs finds the ReplicaSets a Deployment controls; their
// events (FailedCreate: quota exceeded, ...) explain missing pods. It reads
// those its selector matches, as metadata and page by page, and keeps the
// ones it owns, at most boundsOf(ctx).keep. Errors only cost those events,
// so they are dropped.
func ownedReplicaSetUIDs(ctx context.Context, c *kube.Clients, ns string, owner types.UID, sel labels.Selector) []string {
	m, err := metadataFor(c)
	if err != nil {
		return nil
	}
	keep := boundsOf(ctx).keep
	var out []string
	list := m.Resource(appsv1.SchemeGroupVersion.WithResource("replicasets")).Namespace(ns).List
	_ = eachListed(ctx, metav1.ListOptions{LabelSelector: sel.String()}, list, func(rs *metav1.PartialObjectMetadata) bool {
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == owner {
			out = append(out, string(rs.UID))
		}
		return len(out) < keep
	})
	return out
}

// ownedUIDs are the UIDs of a workload's ReplicaSets (for a Deployment) and
// pods. Errors only cost events, so they are dropped.
func ownedUIDs(ctx context.Context, c *kube.Clients, ref workloadRef, uid types.UID) []string {
	w, err := getWorkload(ctx, c, ref)
	if err != nil {
		return nil
	}
	var out []string
	if sel, err := metav1.LabelSelectorAsSelector(w.labelSelector()); err == nil && ref.Kind == kindDeployment {
		out = ownedReplicaSetUIDs(ctx, c, ref.Namespace, uid, sel)
	}
	pods, _ := w.pods(ctx, c)
	for i := range pods {
		out = append(out, string(pods[i].UID))
	}
	return out
}

func replicaSetProgress(rs *appsv1.ReplicaSet) RolloutProgress {
	desired := replicasOr1(rs.Spec.Replicas)
	s := rs.Status
	// A ReplicaSet has one template, so all its pods are "updated".
	p := RolloutProgress{Desired: desired, Updated: s.Replicas, Ready: s.ReadyReplicas, Available: s.AvailableReplicas}
	switch {
	case rs.Generation > s.ObservedGeneration:
		p.Message = "waiting for the replicaset controller to observe the new spec"
	case s.ReadyReplicas < desired:
		p.Message = fmt.Sprintf("%d of %d pods ready", s.ReadyReplicas, desired)
	default:
		p.Done = true
		p.Message = fmt.Sprintf("%d pods ready", s.ReadyReplicas)
	}
	return p
}

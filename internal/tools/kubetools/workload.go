package kubetools

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// Annotations the deployment controller and kubectl maintain.
const (
	revisionAnnotation    = "deployment.kubernetes.io/revision"
	restartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"
)

// liveWorkload is one workload as read from the API; exactly one of the
// pointers is set, matching ref.Kind.
type liveWorkload struct {
	ref    workloadRef
	deploy *appsv1.Deployment
	sts    *appsv1.StatefulSet
	ds     *appsv1.DaemonSet
}

// getWorkload reads the workload ref names.
func getWorkload(ctx context.Context, c *kube.Clients, ref workloadRef) (liveWorkload, error) {
	w := liveWorkload{ref: ref}
	apps := c.Typed.AppsV1()
	var err error
	switch ref.Kind {
	case kindDeployment:
		w.deploy, err = apps.Deployments(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	case kindStatefulSet:
		w.sts, err = apps.StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	case kindDaemonSet:
		w.ds, err = apps.DaemonSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	default:
		return w, fmt.Errorf("unsupported workload kind %q", ref.Kind)
	}
	if apierrors.IsNotFound(err) {
		return w, fmt.Errorf("%s: %w (it was deleted meanwhile?)", ref.describe(), tools.ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("get %s: %w", ref.describe(), err)
	}
	return w, nil
}

func (w liveWorkload) meta() *metav1.ObjectMeta {
	switch {
	case w.deploy != nil:
		return &w.deploy.ObjectMeta
	case w.sts != nil:
		return &w.sts.ObjectMeta
	}
	return &w.ds.ObjectMeta
}

// DeepCopy copies the live object so an edit never touches what was read.
func (w liveWorkload) DeepCopy() liveWorkload {
	return liveWorkload{ref: w.ref, deploy: w.deploy.DeepCopy(), sts: w.sts.DeepCopy(), ds: w.ds.DeepCopy()}
}

// template is the workload's pod template.
func (w liveWorkload) template() *corev1.PodTemplateSpec {
	switch {
	case w.deploy != nil:
		return &w.deploy.Spec.Template
	case w.sts != nil:
		return &w.sts.Spec.Template
	}
	return &w.ds.Spec.Template
}

// replicas is the replica count the spec asks for; a DaemonSet has none.
func (w liveWorkload) replicas() int32 {
	switch {
	case w.deploy != nil:
		return replicasOr1(w.deploy.Spec.Replicas)
	case w.sts != nil:
		return replicasOr1(w.sts.Spec.Replicas)
	}
	return 0
}

func (w liveWorkload) labelSelector() *metav1.LabelSelector {
	switch {
	case w.deploy != nil:
		return w.deploy.Spec.Selector
	case w.sts != nil:
		return w.sts.Spec.Selector
	}
	return w.ds.Spec.Selector
}

// progress is the workload's rollout state as kubectl rollout status sees it.
func (w liveWorkload) progress() RolloutProgress {
	switch {
	case w.deploy != nil:
		return deploymentProgress(w.deploy)
	case w.sts != nil:
		return statefulSetProgress(w.sts)
	}
	return daemonSetProgress(w.ds)
}

// revision is what identifies the current template: the deployment
// controller's revision number, a StatefulSet's update revision, a
// DaemonSet's generation (DaemonSet revisions live in ControllerRevisions,
// which would cost another list for a line of preview).
func (w liveWorkload) revision() string {
	switch {
	case w.deploy != nil:
		if r := w.deploy.Annotations[revisionAnnotation]; r != "" {
			return r
		}
		return "unknown"
	case w.sts != nil:
		if w.sts.Status.UpdateRevision != "" {
			return w.sts.Status.UpdateRevision
		}
		return "unknown"
	}
	return "generation " + strconv.FormatInt(w.ds.Generation, 10)
}

// pods lists the pods the workload selects.
func (w liveWorkload) pods(ctx context.Context, c *kube.Clients) ([]corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(w.labelSelector())
	if err != nil {
		return nil, fmt.Errorf("%s has an invalid selector: %w", w.ref.describe(), err)
	}
	if sel.Empty() {
		// An empty selector would match every pod in the namespace.
		return nil, nil
	}
	return listPods(ctx, c, w.ref.Namespace, sel)
}

// listPods lists the pods matching sel, bounded to one page.
func listPods(ctx context.Context, c *kube.Clients, ns string, sel labels.Selector) ([]corev1.Pod, error) {
	l, err := c.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String(), Limit: maxListLimit})
	if err != nil {
		return nil, fmt.Errorf("list pods %s in %s: %w", sel, ns, err)
	}
	return l.Items, nil
}

// findWorkload resolves the workload a call names, with the kind as the
// caller spelled it ("" searches kinds) and the namespace as given, and
// reads it.
func findWorkload(ctx context.Context, c *kube.Clients, kind, name, namespace string, kinds []workloadKind) (liveWorkload, error) {
	k, err := parseWorkloadKind(kind, kinds)
	if err != nil {
		return liveWorkload{}, fmt.Errorf("%w: %v", tools.ErrInvalidArgs, err)
	}
	ref, err := resolveWorkload(ctx, c, NamespaceFor(c, namespace), k, name, kinds)
	if err != nil {
		return liveWorkload{}, err
	}
	return getWorkload(ctx, c, ref)
}

package kubetools

import (
	"context"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// GetResourceArgs are get_resource's arguments.
type GetResourceArgs struct {
	Kind      string `json:"kind" description:"Kind as kubectl names it (pod, deploy, svc, ...)"`
	Name      string `json:"name" description:"Object name"`
	Namespace string `json:"namespace,omitempty" description:"Namespace"`
}

// Validate implements tools.Validator.
func (a GetResourceArgs) Validate() error {
	if err := CheckName("kind", a.Kind); err != nil {
		return err
	}
	if err := CheckName("name", a.Name); err != nil {
		return err
	}
	return CheckNamespace(a.Namespace)
}

// Description is a describe-like summary of one object. Exactly the detail
// that matches its kind is set; other kinds get conditions and events only.
type Description struct {
	Kind        string            `json:"kind"`
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Age         string            `json:"age"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owners      []string          `json:"owners,omitempty"`

	Pod       *PodDetail       `json:"pod,omitempty"`
	Workload  *WorkloadDetail  `json:"workload,omitempty"`
	Service   *ServiceDetail   `json:"service,omitempty"`
	Secret    *SecretDetail    `json:"secret,omitempty"`
	ConfigMap *ConfigMapDetail `json:"configMap,omitempty"`
	Node      *NodeDetail      `json:"node,omitempty"`
	Claim     *ClaimDetail     `json:"persistentVolumeClaim,omitempty"`

	// Phase and Conditions are read from any kind's status.
	Phase      string      `json:"phase,omitempty"`
	Conditions []Condition `json:"conditions,omitempty"`

	// Events are the newest events of the object (and, for workloads, the
	// warnings of its ReplicaSets and pods), matched by UID.
	Events []EventRow `json:"events,omitempty"`
	Note   string     `json:"note,omitempty"`
}

// maxDescribeEvents bounds the events in a description.
const maxDescribeEvents = 10

// GetResource declares get_resource.
func GetResource(c *kube.Clients) tools.Tool {
	return tools.Define(NameGetResource,
		"Describe one object with its events (kubectl describe).",
		tools.Read,
		func(ctx context.Context, a GetResourceArgs) (tools.Action, error) {
			return tools.ReadResult(func(ctx context.Context) (any, error) { return getResource(ctx, c, a) }), nil
		})
}

func getResource(ctx context.Context, c *kube.Clients, a GetResourceArgs) (*Description, error) {
	k, err := ResolveKind(c.Mapper, a.Kind)
	if err != nil {
		return nil, err
	}
	u, err := ResolveObject(ctx, c, k, NamespaceFor(c, a.Namespace), a.Name)
	if err != nil {
		return nil, err
	}
	d := &Description{
		Kind: u.GetKind(), Name: u.GetName(), Namespace: u.GetNamespace(), Age: age(u.GetCreationTimestamp()),
		Labels: u.GetLabels(), Annotations: visibleAnnotations(u.GetAnnotations()), Owners: ownerStrings(u.GetOwnerReferences()),
	}
	// Event subjects: the object itself, plus what it owns for workloads.
	uids := []string{string(u.GetUID())}
	switch u.GroupVersionKind().GroupKind() {
	case schema.GroupKind{Kind: "Pod"}:
		var p corev1.Pod
		if err = fromUnstructured(u, &p); err == nil {
			d.Pod = describePod(&p)
		}
	case schema.GroupKind{Kind: "Secret"}:
		var s corev1.Secret
		if err = fromUnstructured(u, &s); err == nil {
			d.Secret, d.Annotations = describeSecret(&s), nil
		}
	case schema.GroupKind{Kind: "ConfigMap"}:
		var cm corev1.ConfigMap
		if err = fromUnstructured(u, &cm); err == nil {
			d.ConfigMap = describeConfigMap(&cm)
		}
	case schema.GroupKind{Kind: "Service"}:
		var s corev1.Service
		if err = fromUnstructured(u, &s); err == nil {
			d.Service, err = describeService(ctx, c, &s)
		}
	case schema.GroupKind{Kind: "Node"}:
		var n corev1.Node
		if err = fromUnstructured(u, &n); err == nil {
			d.Node = describeNode(&n)
		}
	case schema.GroupKind{Kind: "PersistentVolumeClaim"}:
		var pvc corev1.PersistentVolumeClaim
		if err = fromUnstructured(u, &pvc); err == nil {
			d.Claim = describeClaim(&pvc)
		}
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}, schema.GroupKind{Group: "apps", Kind: "StatefulSet"},
		schema.GroupKind{Group: "apps", Kind: "DaemonSet"}, schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}:
		var owned []string
		d.Workload, owned, err = describeWorkload(ctx, c, u)
		uids = append(uids, owned...)
	default:
		d.Phase, _, _ = unstructured.NestedString(u.Object, "status", "phase")
		d.Conditions = unstructuredConditions(u)
	}
	if err != nil {
		return nil, err
	}
	if k.GVR.Resource == "events" {
		return d, nil
	}
	ev, err := queryEvents(ctx, c, eventQuery{Namespace: u.GetNamespace(), UIDs: uids, Limit: maxDescribeEvents})
	if err != nil {
		// The object was read; missing events should not hide it.
		d.Note = "events could not be read: " + err.Error()
		return d, nil
	}
	d.Events = ev.Rows
	return d, nil
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

// Annotations that are never shown: last-applied-configuration holds the
// whole applied manifest (for a Secret, its data in clear text) and is large.
var hiddenAnnotations = []string{"kubectl.kubernetes.io/last-applied-configuration"}

const maxAnnotationLen = 200

func visibleAnnotations(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		if !slices.Contains(hiddenAnnotations, k) {
			out[k] = truncate(v, maxAnnotationLen)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// unstructuredConditions reads status.conditions of any kind.
func unstructuredConditions(u *unstructured.Unstructured) []Condition {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var out []Condition
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		out = append(out, Condition{Type: str("type"), Status: str("status"), Reason: str("reason"), Message: truncate(str("message"), maxMessageLen)})
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// selectorString renders a label selector as kubectl does ("app=x,tier=y").
func selectorString(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

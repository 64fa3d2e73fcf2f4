package objecttools

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/opsagent/opsagent/internal/kube"
)

// maxScanned bounds how many objects of one kind a delete preview reads.
const maxScanned = 500

// maxNamed bounds how many names of one kind a preview lists.
const maxNamed = 5

// kindResource is a kind with the resource that serves it.
type kindResource struct {
	kind string
	gvr  schema.GroupVersionResource
}

var (
	gvrPods              = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrClaims            = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	gvrConfigMaps        = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	gvrPersistentVolumes = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}
)

// dependentKinds are the kinds that controllers create and own in a
// namespace: what a cascading delete of a workload or Service removes.
var dependentKinds = []kindResource{
	{"ReplicaSet", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}},
	{"Pod", gvrPods},
	{"Job", schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}},
	{"ControllerRevision", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "controllerrevisions"}},
	{"EndpointSlice", schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}},
	{"PersistentVolumeClaim", gvrClaims},
}

// namespaceKinds are the common kinds a namespace deletion preview counts.
var namespaceKinds = []kindResource{
	{"Deployment", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}},
	{"StatefulSet", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}},
	{"DaemonSet", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}},
	{"CronJob", schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}},
	{"Job", schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}},
	{"Pod", gvrPods},
	{"Service", schema.GroupVersionResource{Version: "v1", Resource: "services"}},
	{"Ingress", schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}},
	{"ConfigMap", gvrConfigMaps},
	{"Secret", schema.GroupVersionResource{Version: "v1", Resource: "secrets"}},
	{"PersistentVolumeClaim", gvrClaims},
	{"ServiceAccount", schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}},
	{"Role", schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}},
	{"RoleBinding", schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}},
	{"HorizontalPodAutoscaler", schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}},
	{"NetworkPolicy", schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}},
}

// object is one object a preview names.
type object struct {
	kind, name string
	uid        types.UID
}

// ownerIndex holds the controller-made objects of one namespace, indexed
// by the UIDs of their owners.
type ownerIndex struct {
	children map[types.UID][]object
	pods     []unstructured.Unstructured
	claims   []unstructured.Unstructured
	// problems are the lookups that failed or were cut short; the preview
	// shows them so that a partial answer does not pass for a full one.
	problems []string
}

func newOwnerIndex(ctx context.Context, c *kube.Clients, ns string) *ownerIndex {
	idx := &ownerIndex{children: map[types.UID][]object{}}
	for _, k := range dependentKinds {
		items, err := listSome(ctx, c, k, ns)
		if err != nil {
			idx.problems = append(idx.problems, err.Error())
		}
		for _, it := range items {
			o := object{kind: k.kind, name: it.GetName(), uid: it.GetUID()}
			for _, ref := range it.GetOwnerReferences() {
				idx.children[ref.UID] = append(idx.children[ref.UID], o)
			}
		}
		switch k.gvr {
		case gvrPods:
			idx.pods = items
		case gvrClaims:
			idx.claims = items
		}
	}
	return idx
}

// dependents are the objects owned by uid, directly or through others (a
// Deployment's ReplicaSets, then their pods), owners before what they own.
func (x *ownerIndex) dependents(uid types.UID) []object {
	var out []object
	seen := map[types.UID]bool{uid: true}
	queue := []types.UID{uid}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		for _, o := range x.children[next] {
			if seen[o.uid] {
				continue
			}
			seen[o.uid] = true
			out = append(out, o)
			queue = append(queue, o.uid)
		}
	}
	return out
}

// listSome lists up to maxScanned objects of one kind in ns. A cut-short
// list is returned with an error that says so.
func listSome(ctx context.Context, c *kube.Clients, k kindResource, ns string) ([]unstructured.Unstructured, error) {
	l, err := c.Dynamic.Resource(k.gvr).Namespace(ns).List(ctx, metav1.ListOptions{Limit: maxScanned})
	if err != nil {
		return nil, fmt.Errorf("(could not check %s: %v)", plural(k.kind, 2), err)
	}
	if l.GetContinue() != "" {
		return l.Items, fmt.Errorf("(only the first %d %s were checked)", maxScanned, plural(k.kind, 2))
	}
	return l.Items, nil
}

// namespaceContents counts what a namespace holds, per common kind: all of
// it goes with the namespace.
func namespaceContents(ctx context.Context, c *kube.Clients, ns string) []string {
	var counts, problems []string
	for _, k := range namespaceKinds {
		items, err := listSome(ctx, c, k, ns)
		if err != nil {
			problems = append(problems, err.Error())
		}
		if n := len(items); n > 0 {
			more := ""
			if err != nil {
				more = "+"
			}
			counts = append(counts, fmt.Sprintf("%d%s %s", n, more, plural(k.kind, n)))
		}
	}
	out := []string{"everything in it goes with it: nothing of the common kinds"}
	if len(counts) > 0 {
		out = []string{"everything in it goes with it: " + strings.Join(counts, ", ")}
	}
	return append(out, problems...)
}

// describeGroups renders objects grouped by kind, in order of first
// appearance, with at most maxNamed names each:
// "1 replicaset (web-5d9), 2 pods (web-5d9-a, web-5d9-b)".
func describeGroups(objs []object) string {
	var kinds []string
	byKind := map[string][]string{}
	for _, o := range objs {
		if _, ok := byKind[o.kind]; !ok {
			kinds = append(kinds, o.kind)
		}
		byKind[o.kind] = append(byKind[o.kind], o.name)
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		names := byKind[k]
		shown := names[:min(len(names), maxNamed)]
		list := strings.Join(shown, ", ")
		if len(names) > maxNamed {
			list += fmt.Sprintf(", … and %d more", len(names)-maxNamed)
		}
		parts[i] = fmt.Sprintf("%d %s (%s)", len(names), plural(k, len(names)), list)
	}
	return strings.Join(parts, ", ")
}

// plural is the lower-case kind, with an "s" for any count but one.
func plural(kind string, n int) string {
	k := strings.ToLower(kind)
	switch {
	case n == 1:
		return k
	case strings.HasSuffix(k, "y"):
		return strings.TrimSuffix(k, "y") + "ies"
	case strings.HasSuffix(k, "s"):
		return k + "es"
	}
	return k + "s"
}

// Package objecttools holds the generic object tools: apply manifests, patch
// one object, delete one object. They give the agent kubectl's breadth while
// keeping the gate's guarantees: every change is previewed from a server-side
// dry run against the live object, Run writes exactly what was previewed (a
// resourceVersion or UID precondition refuses a write to an object that
// changed meanwhile), and the risk and privilege of each change are decided
// here from what the change does, never by the caller.
package objecttools

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// Tool names: part of the contract with the planner and the model.
const (
	NameApplyObjects = "apply_objects"
	NamePatchObject  = "patch_object"
	NameDeleteObject = "delete_object"
)

// FieldManager is the server-side apply field manager opsagent writes as.
const FieldManager = "opsagent"

// New returns the generic object tools, bound to the clients of one context.
func New(c *kube.Clients) []tools.Tool {
	return []tools.Tool{ApplyObjects(c), PatchObject(c), DeleteObject(c)}
}

// objectRef names one object as previews and results show it.
type objectRef struct {
	GVR       schema.GroupVersionResource
	Kind      string // API kind: "Deployment"
	Namespace string // "" for cluster-scoped objects
	Name      string
}

func refFor(k kubetools.KindInfo, ns, name string) objectRef {
	if !k.Namespaced {
		ns = ""
	}
	return objectRef{GVR: k.GVR, Kind: k.GVK.Kind, Namespace: ns, Name: name}
}

func (r objectRef) target() tools.Target {
	return tools.Target{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// String is "deployment/web in shop" or "clusterrole/x (cluster-scoped)".
func (r objectRef) String() string { return r.target().String() }

// short is "deployment/web", for diff labels and lists.
func (r objectRef) short() string { return strings.ToLower(r.Kind) + "/" + r.Name }

// client is the dynamic client for the object's resource and namespace.
func (r objectRef) client(c *kube.Clients) dynamic.ResourceInterface {
	ri := c.Dynamic.Resource(r.GVR)
	if r.Namespace == "" {
		return ri
	}
	return ri.Namespace(r.Namespace)
}

// scaledToZero reports whether a change takes a workload with replicas (any
// kind with spec.replicas: Deployment, StatefulSet, ReplicaSet, custom
// resources following the convention) from running to none. An absent
// replicas field means the API default of 1.
func scaledToZero(live, after *unstructured.Unstructured) bool {
	if after == nil {
		return false
	}
	now, ok, _ := unstructured.NestedFieldNoCopy(after.Object, "spec", "replicas")
	if !ok || !isZero(now) {
		return false
	}
	if live == nil {
		return false
	}
	before, ok, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "replicas")
	return !ok || !isZero(before)
}

func isZero(v any) bool {
	switch n := v.(type) {
	case int64:
		return n == 0
	case float64:
		return n == 0
	case int32:
		return n == 0
	case int:
		return n == 0
	}
	return false
}

// privileges is the union of tools.ClassifyObject over objs.
func privileges(objs ...*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		for _, why := range tools.ClassifyObject(o) {
			if !slices.Contains(out, why) {
				out = append(out, why)
			}
		}
	}
	return out
}

// conflictError is the error Run returns when the object is no longer what
// was previewed: the gate re-plans and asks again.
func conflictError(r objectRef, what string) error {
	return fmt.Errorf("%w: %s %s since you approved; nothing was written to it; re-run to preview the new state", tools.ErrConflict, r, what)
}

// Package resolve is the one place that knows how people name Kubernetes
// kinds and objects: the kind table (singular, plural and kubectl's short
// names) and the name matcher that finds "backend" as
// deployment/todo-chatbot-backend. The tools (kubetools), diagnose's
// explain and the planner all use it, so a name resolves the same way
// whichever path a request takes: "backend" in `opsagent explain backend`
// and in "scale backend to 3" is the same object.
package resolve

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kind is a Kubernetes kind as people name it.
type Kind struct {
	// Kind is the API kind: "Deployment".
	Kind string
	// Group and Resource are the served resource: "apps", "deployments".
	Group, Resource string
	// Aliases are kubectl's short names and other spellings people use
	// ("deploy", "deploys"); the lower-case kind and Resource always count.
	Aliases []string
	// Workload kinds can be scaled, restarted and rolled out.
	Workload bool
	// Namespaced is false for cluster-scoped kinds.
	Namespaced bool
}

// Name is the lower-case singular name tools take ("deployment").
func (k Kind) Name() string { return strings.ToLower(k.Kind) }

// GroupResource is the resource the kind is served as.
func (k Kind) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: k.Group, Resource: k.Resource}
}

// kinds are the kinds requests name most; any other kind the cluster
// serves is still reachable by its resource name through a RESTMapper
// (kubetools.ResolveKind). "events" is pinned to the core group, the one
// kubectl and involvedObject queries use.
var kinds = []Kind{
	{Kind: "Pod", Resource: "pods", Aliases: []string{"po"}, Namespaced: true},
	{Kind: "Deployment", Group: "apps", Resource: "deployments", Aliases: []string{"deploy", "deploys"}, Workload: true, Namespaced: true},
	{Kind: "StatefulSet", Group: "apps", Resource: "statefulsets", Aliases: []string{"sts"}, Workload: true, Namespaced: true},
	{Kind: "DaemonSet", Group: "apps", Resource: "daemonsets", Aliases: []string{"ds"}, Workload: true, Namespaced: true},
	{Kind: "ReplicaSet", Group: "apps", Resource: "replicasets", Aliases: []string{"rs"}, Namespaced: true},
	{Kind: "Job", Group: "batch", Resource: "jobs", Namespaced: true},
	{Kind: "CronJob", Group: "batch", Resource: "cronjobs", Aliases: []string{"cj"}, Namespaced: true},
	{Kind: "Service", Resource: "services", Aliases: []string{"svc", "svcs"}, Namespaced: true},
	{Kind: "Endpoints", Resource: "endpoints", Aliases: []string{"ep"}, Namespaced: true},
	{Kind: "Ingress", Group: "networking.k8s.io", Resource: "ingresses", Aliases: []string{"ing"}, Namespaced: true},
	{Kind: "NetworkPolicy", Group: "networking.k8s.io", Resource: "networkpolicies", Aliases: []string{"netpol"}, Namespaced: true},
	{Kind: "ConfigMap", Resource: "configmaps", Aliases: []string{"cm"}, Namespaced: true},
	{Kind: "Secret", Resource: "secrets", Namespaced: true},
	{Kind: "PersistentVolumeClaim", Resource: "persistentvolumeclaims", Aliases: []string{"pvc", "pvcs"}, Namespaced: true},
	{Kind: "PersistentVolume", Resource: "persistentvolumes", Aliases: []string{"pv", "pvs"}},
	{Kind: "StorageClass", Group: "storage.k8s.io", Resource: "storageclasses", Aliases: []string{"sc"}},
	{Kind: "Node", Resource: "nodes", Aliases: []string{"no"}},
	{Kind: "Namespace", Resource: "namespaces", Aliases: []string{"ns"}},
	{Kind: "ServiceAccount", Resource: "serviceaccounts", Aliases: []string{"sa"}, Namespaced: true},
	{Kind: "Event", Resource: "events", Aliases: []string{"ev"}, Namespaced: true},
	{Kind: "ResourceQuota", Resource: "resourcequotas", Aliases: []string{"quota"}, Namespaced: true},
	{Kind: "LimitRange", Resource: "limitranges", Aliases: []string{"limits"}, Namespaced: true},
	{Kind: "HorizontalPodAutoscaler", Group: "autoscaling", Resource: "horizontalpodautoscalers", Aliases: []string{"hpa", "hpas"}, Namespaced: true},
	{Kind: "PodDisruptionBudget", Group: "policy", Resource: "poddisruptionbudgets", Aliases: []string{"pdb"}, Namespaced: true},
	{Kind: "CustomResourceDefinition", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Aliases: []string{"crd", "crds"}},
}

// byWord maps every spelling, lower case, to its kind: the kind, its
// resource, its aliases, and kind or resource with the group ("deployment.apps",
// "deployments.apps").
var byWord = func() map[string]Kind {
	m := map[string]Kind{}
	for _, k := range kinds {
		words := append([]string{k.Name(), k.Resource}, k.Aliases...)
		if k.Group != "" {
			words = append(words, k.Name()+"."+k.Group, k.Resource+"."+k.Group)
		}
		for _, w := range words {
			m[w] = k
		}
	}
	return m
}()

// LookupKind finds the kind a word names: "po", "Deployment",
// "deployments.apps", "hpa". Case and surrounding space do not matter.
func LookupKind(word string) (Kind, bool) {
	k, ok := byWord[strings.ToLower(strings.TrimSpace(word))]
	return k, ok
}

// Kinds returns the table, in a stable order.
func Kinds() []Kind { return slices.Clone(kinds) }

// Words returns every spelling LookupKind accepts, sorted.
func Words() []string {
	return slices.Sorted(func(yield func(string) bool) {
		for w := range byWord {
			if !yield(w) {
				return
			}
		}
	})
}

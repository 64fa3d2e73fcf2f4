package kubetools

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/opsagent/opsagent/internal/tools"
)

// KindInfo is a kind as the API serves it.
type KindInfo struct {
	GVR        schema.GroupVersionResource
	GVK        schema.GroupVersionKind
	Namespaced bool
}

// label is the lower-case kind used in object references ("deployment/x").
func (k KindInfo) label() string { return strings.ToLower(k.GVK.Kind) }

// shortNames maps kubectl's short names (and the event names that would
// otherwise be ambiguous between core and events.k8s.io) to resources. The
// RESTMapper kubectl builds expands short names from discovery too; this
// table keeps the common ones working with any mapper, and pins "events" to
// the core group that kubectl and involvedObject queries use.
var shortNames = map[string]schema.GroupResource{
	"po":     {Resource: "pods"},
	"svc":    {Resource: "services"},
	"ep":     {Resource: "endpoints"},
	"cm":     {Resource: "configmaps"},
	"pvc":    {Resource: "persistentvolumeclaims"},
	"pv":     {Resource: "persistentvolumes"},
	"no":     {Resource: "nodes"},
	"ns":     {Resource: "namespaces"},
	"sa":     {Resource: "serviceaccounts"},
	"ev":     {Resource: "events"},
	"event":  {Resource: "events"},
	"events": {Resource: "events"},
	"quota":  {Resource: "resourcequotas"},
	"limits": {Resource: "limitranges"},
	"deploy": {Group: "apps", Resource: "deployments"},
	"sts":    {Group: "apps", Resource: "statefulsets"},
	"ds":     {Group: "apps", Resource: "daemonsets"},
	"rs":     {Group: "apps", Resource: "replicasets"},
	"cj":     {Group: "batch", Resource: "cronjobs"},
	"ing":    {Group: "networking.k8s.io", Resource: "ingresses"},
	"netpol": {Group: "networking.k8s.io", Resource: "networkpolicies"},
	"hpa":    {Group: "autoscaling", Resource: "horizontalpodautoscalers"},
	"pdb":    {Group: "policy", Resource: "poddisruptionbudgets"},
	"sc":     {Group: "storage.k8s.io", Resource: "storageclasses"},
	"crd":    {Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
	"crds":   {Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
}

// CommonKinds is shown when a kind is not recognised.
const CommonKinds = "pods, deployments, statefulsets, daemonsets, replicasets, jobs, cronjobs, services, ingresses, configmaps, secrets, pvc, pv, nodes, events, namespaces, hpa"

// ResolveKind turns what a person calls a kind ("po", "Deployment",
// "deployments.apps", "hpa") into the served resource, through the cluster's
// RESTMapper so that any kind the API serves (CRDs included) works.
func ResolveKind(mapper meta.RESTMapper, kind string) (KindInfo, error) {
	s := strings.ToLower(strings.TrimSpace(kind))
	gr, ok := shortNames[s]
	if !ok {
		// "deployments.apps" names the group after the first dot.
		gr = schema.ParseGroupResource(s)
	}
	gvr, err := mapper.ResourceFor(gr.WithVersion(""))
	if err != nil {
		return KindInfo{}, kindError(kind, err)
	}
	gvk, err := mapper.KindFor(gvr)
	if err != nil {
		return KindInfo{}, kindError(kind, err)
	}
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return KindInfo{}, kindError(kind, err)
	}
	return KindInfo{
		GVR:        mapping.Resource,
		GVK:        mapping.GroupVersionKind,
		Namespaced: mapping.Scope.Name() == meta.RESTScopeNameNamespace,
	}, nil
}

func kindError(kind string, err error) error {
	var amb *meta.AmbiguousResourceError
	if errors.As(err, &amb) {
		groups := make([]string, 0, len(amb.MatchingResources))
		for _, r := range amb.MatchingResources {
			groups = append(groups, r.GroupResource().String())
		}
		slices.Sort(groups)
		return fmt.Errorf("kind %q is served by several API groups (%s): %w; name one, e.g. %q",
			kind, strings.Join(groups, ", "), tools.ErrAmbiguous, groups[0])
	}
	if meta.IsNoMatchError(err) {
		return fmt.Errorf("kind %q: %w: the cluster serves no such resource; common kinds are %s", kind, tools.ErrNotFound, CommonKinds)
	}
	return fmt.Errorf("resolve kind %q: %w", kind, err)
}

// workloadKind is one of the controllers the write tools act on.
type workloadKind string

const (
	kindDeployment  workloadKind = "deployment"
	kindStatefulSet workloadKind = "statefulset"
	kindDaemonSet   workloadKind = "daemonset"
)

// title is the API kind ("Deployment"), as it appears in owner references.
func (k workloadKind) title() string {
	switch k {
	case kindDeployment:
		return "Deployment"
	case kindStatefulSet:
		return "StatefulSet"
	case kindDaemonSet:
		return "DaemonSet"
	}
	return string(k)
}

var workloadAliases = map[string]workloadKind{
	"deploy": kindDeployment, "deployment": kindDeployment, "deployments": kindDeployment,
	"deployment.apps": kindDeployment, "deployments.apps": kindDeployment,
	"sts": kindStatefulSet, "statefulset": kindStatefulSet, "statefulsets": kindStatefulSet,
	"statefulset.apps": kindStatefulSet, "statefulsets.apps": kindStatefulSet,
	"ds": kindDaemonSet, "daemonset": kindDaemonSet, "daemonsets": kindDaemonSet,
	"daemonset.apps": kindDaemonSet, "daemonsets.apps": kindDaemonSet,
}

// parseWorkloadKind accepts kubectl's spellings of the allowed kinds. An
// empty kind stays empty: the resolver then searches all allowed kinds.
func parseWorkloadKind(s string, allowed []workloadKind) (workloadKind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	k, ok := workloadAliases[s]
	if !ok || !slices.Contains(allowed, k) {
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = string(a)
		}
		return "", fmt.Errorf("kind %q is not supported here; use one of %s (or leave it out to search them all)", s, strings.Join(names, ", "))
	}
	return k, nil
}

package kubetools

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/opsagent/opsagent/internal/resolve"
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

// CommonKinds is shown when a kind is not recognised.
const CommonKinds = "pods, deployments, statefulsets, daemonsets, replicasets, jobs, cronjobs, services, ingresses, configmaps, secrets, pvc, pv, nodes, events, namespaces, hpa"

// ResolveKind turns what a person calls a kind ("po", "Deployment",
// "deployments.apps", "hpa") into the served resource, through the cluster's
// RESTMapper so that any kind the API serves (CRDs included) works.
func ResolveKind(mapper meta.RESTMapper, kind string) (KindInfo, error) {
	s := strings.ToLower(strings.TrimSpace(kind))
	// The shared kind table knows the short names with any mapper, and
	// pins "events" to the core group; "foos.example.com" names the group
	// after the first dot.
	gr := schema.ParseGroupResource(s)
	if k, ok := resolve.LookupKind(s); ok {
		gr = k.GroupResource()
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

// parseWorkloadKind accepts kubectl's spellings of the allowed kinds. An
// empty kind stays empty: the resolver then searches all allowed kinds.
func parseWorkloadKind(s string, allowed []workloadKind) (workloadKind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	info, ok := resolve.LookupKind(s)
	k := workloadKind(info.Name())
	if !ok || !info.Workload || !slices.Contains(allowed, k) {
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = string(a)
		}
		return "", fmt.Errorf("kind %q is not supported here; use one of %s (or leave it out to search them all)", s, strings.Join(names, ", "))
	}
	return k, nil
}

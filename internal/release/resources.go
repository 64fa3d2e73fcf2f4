package release

import (
	"fmt"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// Resource is one object a release operation writes or deletes, as it lands
// in the cluster: Namespace is resolved (the release's namespace for a
// namespaced kind the chart left blank, "" for a cluster-scoped kind), and
// Content is the rendered object, for judging what it asks for (an RBAC
// binding, a privileged pod). Content is never serialised: it may hold
// Secret values.
type Resource struct {
	Object
	// Hook is set for hooks: Helm creates them when their events fire, and
	// they are not part of the release manifest.
	Hook bool `json:"hook,omitempty"`
	// Deleted is set for objects the operation deletes.
	Deleted bool           `json:"deleted,omitempty"`
	Content map[string]any `json:"-"`
}

// Hook is one hook a chart renders: Helm runs it on its events (pre-install,
// post-upgrade, test, ...) and deletes it by its delete policies.
type Hook struct {
	Object
	Events         []string `json:"events"`
	DeletePolicies []string `json:"deletePolicies,omitempty"`
	Weight         int      `json:"weight,omitempty"`
}

// String formats a hook for a preview: "Pod/x: test; delete policy
// before-hook-creation, hook-succeeded".
func (h Hook) String() string {
	s := h.Object.String() + ": " + strings.Join(h.Events, ", ")
	if len(h.DeletePolicies) > 0 {
		s += "; delete policy " + strings.Join(h.DeletePolicies, ", ")
	}
	if h.Weight != 0 {
		s += fmt.Sprintf("; weight %d", h.Weight)
	}
	return s
}

// hooksOf lists a release's hooks in Helm's order (events, then weight).
func hooksOf(hooks []*helmrelease.Hook) ([]Hook, error) {
	out := make([]Hook, 0, len(hooks))
	for _, h := range hooks {
		objs, err := parseManifest(h.Manifest)
		if err != nil {
			return nil, fmt.Errorf("hook %s: %w", h.Path, err)
		}
		hk := Hook{Object: Object{Kind: h.Kind, Name: h.Name}, Weight: h.Weight}
		if len(objs) > 0 {
			hk.Object = objs[0].Object
		}
		for _, e := range h.Events {
			hk.Events = append(hk.Events, e.String())
		}
		for _, p := range h.DeletePolicies {
			hk.DeletePolicies = append(hk.DeletePolicies, p.String())
		}
		out = append(out, hk)
	}
	return out, nil
}

// resourcesOf turns a revision's manifest and hooks into Resources.
func (c *Client) resourcesOf(manifest string, hooks []*helmrelease.Hook) ([]Resource, error) {
	objs, err := parseManifest(manifest)
	if err != nil {
		return nil, err
	}
	out, err := c.resolve(objs, false, false)
	if err != nil {
		return nil, err
	}
	for _, h := range hooks {
		objs, err := parseManifest(h.Manifest)
		if err != nil {
			return nil, fmt.Errorf("hook %s: %w", h.Path, err)
		}
		rs, err := c.resolve(objs, true, false)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// crdResources lists the CustomResourceDefinitions in the chart's crds/
// folders (its own and its subcharts'): `helm install` creates them before
// anything else, and they are not part of the release manifest.
func (c *Client) crdResources(ch *chart.Chart) ([]Resource, error) {
	var out []Resource
	for _, crd := range ch.CRDObjects() {
		objs, err := parseManifest(string(crd.File.Data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", crd.Filename, err)
		}
		rs, err := c.resolve(objs, false, false)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// resolve decides where each object lands, the way Helm's kube client does:
// a namespaced kind without a namespace goes to the release's, a
// cluster-scoped kind has none. A kind the API server does not serve (yet)
// is taken as cluster-scoped: the stricter judgement, and in practice the
// dry run itself fails on such kinds.
func (c *Client) resolve(objs []manifestObject, hook, deleted bool) ([]Resource, error) {
	if len(objs) == 0 {
		return nil, nil
	}
	mapper, err := c.restMapper()
	if err != nil {
		return nil, fmt.Errorf("build the REST mapper: %w", err)
	}
	out := make([]Resource, 0, len(objs))
	for _, o := range objs {
		gv, err := schema.ParseGroupVersion(o.APIVersion)
		if err != nil {
			return nil, fmt.Errorf("%s: apiVersion %q: %w", o.Object, o.APIVersion, err)
		}
		mapping, err := mapper.RESTMapping(gv.WithKind(o.Kind).GroupKind(), gv.Version)
		switch {
		case meta.IsNoMatchError(err):
			o.Namespace = ""
		case err != nil:
			return nil, fmt.Errorf("find the API resource of %s: %w", o.Object, err)
		case mapping.Scope.Name() != meta.RESTScopeNameNamespace:
			o.Namespace = ""
		case o.Namespace == "":
			o.Namespace = c.namespace
		}
		var content map[string]any
		if err := yaml.Unmarshal([]byte(o.Body), &content); err != nil {
			return nil, fmt.Errorf("parse %s: %w", o.Object, err)
		}
		out = append(out, Resource{Object: o.Object, Hook: hook, Deleted: deleted, Content: content})
	}
	return out, nil
}

// objectsIn lists the objects of resources, without duplicates.
func objectsIn(rs []Resource) []Object {
	out := make([]Object, 0, len(rs))
	for _, r := range rs {
		if !slices.Contains(out, r.Object) {
			out = append(out, r.Object)
		}
	}
	return out
}

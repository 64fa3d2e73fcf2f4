package kubetools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/resolve"
	"github.com/opsagent/opsagent/internal/tools"
)

// workloadRef names one resolved workload.
type workloadRef struct {
	Kind      workloadKind
	Name      string
	Namespace string
}

func (w workloadRef) String() string { return string(w.Kind) + "/" + w.Name }

// describe is the form previews use: "deployment/backend in todo".
func (w workloadRef) describe() string { return w.String() + " in " + w.Namespace }

// resolveWorkload finds the workload name refers to in ns. kind may be ""
// (search every kind in search, in that order) or one of them; name may also
// carry a kind prefix ("sts/db").
func resolveWorkload(ctx context.Context, c *kube.Clients, ns string, kind workloadKind, name string, search []workloadKind) (workloadRef, error) {
	if prefix, rest := resolve.SplitKind(name); prefix != "" {
		k, err := parseWorkloadKind(prefix, search)
		if err != nil {
			return workloadRef{}, fmt.Errorf("%w: %s: %v", tools.ErrInvalidArgs, name, err)
		}
		if kind != "" && kind != k {
			return workloadRef{}, fmt.Errorf("%w: name %q says %s but kind is %s", tools.ErrInvalidArgs, name, k, kind)
		}
		kind, name = k, rest
	}
	kinds := search
	if kind != "" {
		kinds = []workloadKind{kind}
	}
	var (
		cands   []resolve.Candidate
		partial []string
	)
	for _, k := range kinds {
		cs, more, err := listWorkloads(ctx, c, ns, k, name)
		if err != nil {
			return workloadRef{}, err
		}
		cands = append(cands, cs...)
		if more {
			partial = append(partial, fmt.Sprintf("the first %d %ss", boundsOf(ctx).keep, k))
		}
	}
	noun := "workload"
	if len(kinds) == 1 {
		noun = string(kinds[0])
	}
	w := resolve.Where{Noun: noun, Listed: noun + "s", In: "namespace " + ns}
	if len(partial) > 0 {
		w.Partial = "only " + strings.Join(partial, " and ") + " there were read"
	}
	got, err := resolve.Pick(name, cands, w)
	if err != nil {
		return workloadRef{}, err
	}
	return workloadRef{Kind: workloadKind(got.Kind), Name: got.Name, Namespace: ns}, nil
}

// listWorkloads reads the names and labels of one workload kind in ns, as
// metadata, page by page and bounded; more says the bound was hit. Past the
// bound, the object named exactly name is still a candidate.
func listWorkloads(ctx context.Context, c *kube.Clients, ns string, k workloadKind, name string) (cands []resolve.Candidate, more bool, err error) {
	gvr := appsv1.SchemeGroupVersion.WithResource(string(k) + "s")
	cands, more, err = listCandidates(ctx, c, gvr, ns, string(k))
	if err != nil {
		return nil, false, fmt.Errorf("list %ss in %s: %w", k, ns, err)
	}
	if !more {
		return cands, false, nil
	}
	exact := resolve.NormalizeName(name)
	if slices.ContainsFunc(cands, func(c resolve.Candidate) bool { return c.Name == exact }) {
		return cands, true, nil
	}
	m, err := metadataFor(c)
	if err != nil {
		return nil, false, err
	}
	o, err := m.Resource(gvr).Namespace(ns).Get(ctx, exact, metav1.GetOptions{})
	switch {
	case err == nil:
		cands = append(cands, resolve.Candidate{Kind: string(k), Name: o.Name, Labels: o.Labels})
	case !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err):
		return nil, false, fmt.Errorf("get %s %s in %s: %w", k, exact, ns, err)
	}
	return cands, true, nil
}

// ResolveObject finds the object of kind k that name refers to: an exact Get
// first, then the same loose matching as for workloads over the kind's
// objects in ns (ns is ignored for cluster-scoped kinds).
func ResolveObject(ctx context.Context, c *kube.Clients, k KindInfo, ns, name string) (*unstructured.Unstructured, error) {
	if !k.Namespaced {
		ns = ""
	}
	where := "the cluster"
	if ns != "" {
		where = "namespace " + ns
	}
	ri := c.Dynamic.Resource(k.GVR).Namespace(ns)
	// "deployment/web" as a name: the kind is already known.
	_, name = resolve.SplitKind(name)
	obj, err := ri.Get(ctx, resolve.NormalizeName(name), metav1.GetOptions{})
	if err == nil {
		return obj, nil
	}
	if !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
		return nil, fmt.Errorf("get %s %s in %s: %w", k.label(), name, where, err)
	}
	cands, more, err := listCandidates(ctx, c, k.GVR, ns, k.label())
	if err != nil {
		return nil, fmt.Errorf("list %s in %s: %w", k.GVR.Resource, where, err)
	}
	w := resolve.Where{Noun: k.label(), Listed: k.GVR.Resource, In: where}
	if more {
		w.Partial = fmt.Sprintf("only the first %d %s there were read", len(cands), k.GVR.Resource)
	}
	got, err := resolve.Pick(name, cands, w)
	if err != nil {
		return nil, err
	}
	obj, err = ri.Get(ctx, got.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s/%s in %s: %w (it was deleted meanwhile?)", k.label(), got.Name, where, tools.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %s in %s: %w", k.label(), got.Name, where, err)
	}
	return obj, nil
}

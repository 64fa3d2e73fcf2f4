package kubetools

import (
	"context"
	"fmt"
	"slices"

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

// maxCandidates bounds how many objects of one kind the resolver reads.
const maxCandidates = 2000

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
	var cands []resolve.Candidate
	for _, k := range kinds {
		cs, err := listWorkloads(ctx, c, ns, k)
		if err != nil {
			return workloadRef{}, err
		}
		cands = append(cands, cs...)
	}
	noun := "workload"
	if len(kinds) == 1 {
		noun = string(kinds[0])
	}
	got, err := resolve.Pick(name, cands, resolve.Where{Noun: noun, Listed: noun + "s", In: "namespace " + ns})
	if err != nil {
		return workloadRef{}, err
	}
	return workloadRef{Kind: workloadKind(got.Kind), Name: got.Name, Namespace: ns}, nil
}

// listWorkloads reads the names and labels of one workload kind in ns, page by
// page and bounded.
func listWorkloads(ctx context.Context, c *kube.Clients, ns string, k workloadKind) ([]resolve.Candidate, error) {
	var out []resolve.Candidate
	opts := metav1.ListOptions{Limit: maxListLimit}
	for {
		var (
			metas []metav1.ObjectMeta
			cont  string
			err   error
		)
		apps := c.Typed.AppsV1()
		switch k {
		case kindDeployment:
			var l *appsv1.DeploymentList
			if l, err = apps.Deployments(ns).List(ctx, opts); err == nil {
				cont = l.Continue
				for i := range l.Items {
					metas = append(metas, l.Items[i].ObjectMeta)
				}
			}
		case kindStatefulSet:
			var l *appsv1.StatefulSetList
			if l, err = apps.StatefulSets(ns).List(ctx, opts); err == nil {
				cont = l.Continue
				for i := range l.Items {
					metas = append(metas, l.Items[i].ObjectMeta)
				}
			}
		case kindDaemonSet:
			var l *appsv1.DaemonSetList
			if l, err = apps.DaemonSets(ns).List(ctx, opts); err == nil {
				cont = l.Continue
				for i := range l.Items {
					metas = append(metas, l.Items[i].ObjectMeta)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("list %ss in %s: %w", k, ns, err)
		}
		for _, m := range metas {
			out = append(out, resolve.Candidate{Kind: string(k), Name: m.Name, Labels: m.Labels})
		}
		if cont == "" || len(out) >= maxCandidates {
			return out, nil
		}
		opts.Continue = cont
	}
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
	list, err := ri.List(ctx, metav1.ListOptions{Limit: maxListLimit})
	if err != nil {
		return nil, fmt.Errorf("list %s in %s: %w", k.GVR.Resource, where, err)
	}
	cands := make([]resolve.Candidate, len(list.Items))
	for i, it := range list.Items {
		cands[i] = resolve.Candidate{Kind: k.label(), Name: it.GetName(), Labels: it.GetLabels()}
	}
	got, err := resolve.Pick(name, cands, resolve.Where{Noun: k.label(), Listed: k.GVR.Resource, In: where})
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list.Items, func(u unstructured.Unstructured) bool { return u.GetName() == got.Name })
	return &list.Items[i], nil
}

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
	"github.com/opsagent/opsagent/internal/tools"
)

// candidate is an object a name might refer to.
type candidate struct {
	Kind   string // lower-case kind: "deployment", "pod"
	Name   string
	Labels map[string]string
}

func (c candidate) String() string { return c.Kind + "/" + c.Name }

// nameLabels are the labels whose values people use as short names. Helm
// charts usually name objects "<release>-<component>" and label them with
// the component, so "backend" should find "todo-chatbot-backend".
var nameLabels = []string{"app.kubernetes.io/component", "app.kubernetes.io/name", "app"}

// maxListed bounds how many names an error lists.
const maxListed = 15

// normalizeName turns a spoken name into the shape of a Kubernetes name:
// lower case, with spaces and underscores as dashes ("Todo Backend" →
// "todo-backend").
func normalizeName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '_' || r == '\t' }), "-")
}

// splitKindPrefix splits "deploy/backend" into its kind and name. Without a
// slash the kind is empty.
func splitKindPrefix(s string) (kind, name string) {
	if k, n, ok := strings.Cut(strings.TrimSpace(s), "/"); ok {
		return k, n
	}
	return "", strings.TrimSpace(s)
}

// matches reports whether query names c other than by its exact name: as a
// prefix or suffix at a "-" boundary, or as the value of a name label.
func matches(query string, c candidate) bool {
	if strings.HasPrefix(c.Name, query+"-") || strings.HasSuffix(c.Name, "-"+query) {
		return true
	}
	return slices.ContainsFunc(nameLabels, func(l string) bool { return c.Labels[l] == query })
}

// pick returns the one candidate query refers to. An exact name wins over
// everything else; otherwise exactly one loose match is required. It never
// guesses: several matches are ErrAmbiguous and no match is ErrNotFound, and
// both list names so the caller can ask again precisely. noun ("workload",
// "pod") and where ("namespace todo") only shape the messages.
func pick(query string, cands []candidate, noun, where string) (candidate, error) {
	q := normalizeName(query)
	exact := filter(cands, func(c candidate) bool { return c.Name == q })
	if len(exact) == 1 {
		return exact[0], nil
	}
	found := exact
	if len(found) == 0 {
		found = filter(cands, func(c candidate) bool { return matches(q, c) })
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if len(cands) == 0 {
			return candidate{}, fmt.Errorf("%w: no %s named %q in %s, and there are no %ss there at all; check the namespace (list_resources kind=namespaces)",
				tools.ErrNotFound, noun, query, where, noun)
		}
		return candidate{}, fmt.Errorf("%w: no %s named %q in %s; the %ss there are: %s",
			tools.ErrNotFound, noun, query, where, noun, listNames(cands))
	}
	return candidate{}, fmt.Errorf("%w: %q matches %d %ss in %s: %s; use the exact name (and kind)",
		tools.ErrAmbiguous, query, len(found), noun, where, listNames(found))
}

func filter(cands []candidate, keep func(candidate) bool) []candidate {
	var out []candidate
	for _, c := range cands {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// listNames renders candidates as "kind/name, ..." with at most maxListed.
func listNames(cands []candidate) string {
	names := make([]string, 0, min(len(cands), maxListed))
	for i, c := range cands {
		if i == maxListed {
			names = append(names, fmt.Sprintf("… and %d more", len(cands)-maxListed))
			break
		}
		names = append(names, c.String())
	}
	return strings.Join(names, ", ")
}

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
	if prefix, rest := splitKindPrefix(name); prefix != "" {
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
	var cands []candidate
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
	got, err := pick(name, cands, noun, "namespace "+ns)
	if err != nil {
		return workloadRef{}, err
	}
	return workloadRef{Kind: workloadKind(got.Kind), Name: got.Name, Namespace: ns}, nil
}

// listWorkloads reads the names and labels of one workload kind in ns, page by
// page and bounded.
func listWorkloads(ctx context.Context, c *kube.Clients, ns string, k workloadKind) ([]candidate, error) {
	var out []candidate
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
			out = append(out, candidate{Kind: string(k), Name: m.Name, Labels: m.Labels})
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
	_, name = splitKindPrefix(name)
	obj, err := ri.Get(ctx, normalizeName(name), metav1.GetOptions{})
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
	cands := make([]candidate, len(list.Items))
	for i, it := range list.Items {
		cands[i] = candidate{Kind: k.label(), Name: it.GetName(), Labels: it.GetLabels()}
	}
	got, err := pick(name, cands, k.label(), where)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list.Items, func(u unstructured.Unstructured) bool { return u.GetName() == got.Name })
	return &list.Items[i], nil
}

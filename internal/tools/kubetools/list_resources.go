package kubetools

import (
	"cmp"
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// ListResourcesArgs are list_resources' arguments.
type ListResourcesArgs struct {
	Kind          string `json:"kind" description:"Kind as kubectl names it: pods, deploy, svc, sts, pvc, nodes, ..."`
	Namespace     string `json:"namespace,omitempty" description:"Namespace"`
	AllNamespaces bool   `json:"all_namespaces,omitempty" description:"kubectl -A"`
	Selector      string `json:"selector,omitempty" description:"Label selector"`
	Limit         int    `json:"limit,omitempty" description:"Default 50, max 500"`
}

// Validate implements tools.Validator.
func (a ListResourcesArgs) Validate() error {
	if err := CheckName("kind", a.Kind); err != nil {
		return err
	}
	if err := CheckNamespace(a.Namespace); err != nil {
		return err
	}
	if _, err := labels.Parse(a.Selector); err != nil {
		return fmt.Errorf("selector %q is not a valid label selector: %v", a.Selector, err)
	}
	return CheckRange("limit", a.Limit, 0, maxListLimit)
}

// ListResult is one page of a listing.
type ListResult struct {
	Kind string `json:"kind"`
	// Namespace is where the listing was made: a namespace, "all" or ""
	// for cluster-scoped kinds.
	Namespace string `json:"namespace,omitempty"`
	Selector  string `json:"selector,omitempty"`
	Count     int    `json:"count"`
	Items     []Row  `json:"items"`
	Truncated bool   `json:"truncated,omitempty"`
	// Note says what was left out and how to see it.
	Note string `json:"note,omitempty"`
}

// ListResources declares list_resources.
func ListResources(c *kube.Clients) tools.Tool {
	return tools.Define(NameListResources,
		"kubectl get.",
		tools.Read,
		func(ctx context.Context, a ListResourcesArgs) (tools.Action, error) {
			return tools.ReadResult(func(ctx context.Context) (any, error) { return listResources(ctx, c, a) }), nil
		})
}

func listResources(ctx context.Context, c *kube.Clients, a ListResourcesArgs) (*ListResult, error) {
	k, err := ResolveKind(c.Mapper, a.Kind)
	if err != nil {
		return nil, err
	}
	res := &ListResult{Kind: k.GVR.Resource, Selector: a.Selector, Items: []Row{}}
	ns := ""
	switch {
	case !k.Namespaced:
	case a.AllNamespaces:
		res.Namespace = "all"
	default:
		ns = NamespaceFor(c, a.Namespace)
		res.Namespace = ns
	}
	limit := cmp.Or(a.Limit, defaultListLimit)
	// The API's limit keeps a namespace with thousands of pods from being
	// read in full for a page of rows; continue tells us there is more.
	list, err := c.Dynamic.Resource(k.GVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: a.Selector, Limit: int64(limit)})
	if err != nil {
		return nil, listError(k, ns, err)
	}
	for i := range list.Items {
		r := rowOf(&list.Items[i])
		if !a.AllNamespaces {
			r.Namespace = "" // said once, in the result
		}
		res.Items = append(res.Items, r)
	}
	res.Count = len(res.Items)
	if list.GetContinue() != "" {
		res.Truncated = true
		total := "more"
		if rem := list.GetRemainingItemCount(); rem != nil {
			total = fmt.Sprint(int64(res.Count) + *rem)
		}
		res.Note = fmt.Sprintf("showing %d of %s; narrow with selector or raise limit (max %d)", res.Count, total, maxListLimit)
	}
	if res.Count == 0 {
		res.Note = fmt.Sprintf("no %s found in %s", k.GVR.Resource, scopeLabel(res.Namespace))
		if a.Selector != "" {
			res.Note += " matching " + a.Selector
		}
	}
	return res, nil
}

func scopeLabel(ns string) string {
	switch ns {
	case "":
		return "the cluster"
	case "all":
		return "any namespace"
	}
	return "namespace " + ns
}

// listError adds what to do next to a failed list.
func listError(k KindInfo, ns string, err error) error {
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("list %s in %s: %w (your kube credentials may not list this kind; try another namespace or ask for RBAC access)", k.GVR.Resource, scopeLabel(ns), err)
	}
	return fmt.Errorf("list %s in %s: %w", k.GVR.Resource, scopeLabel(ns), err)
}

package kubetools

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/resolve"
)

// Paging. A lookup that needs only names, labels or owners reads them as
// metadata (PartialObjectMetadata: no spec, no status), a page at a time,
// and keeps a bounded number, so that a namespace with thousands of objects
// costs a few small requests rather than one response of every object.

// maxCandidates bounds how many names of one kind a lookup keeps.
const maxCandidates = 2000

// listBounds are how the lookups page: objects per LIST and how many
// names are kept in all.
type listBounds struct {
	page int64
	keep int
}

type listBoundsKey struct{}

// withListBounds sets smaller bounds for the lookups made with ctx; the
// tests use it to cross pages with a few objects.
func withListBounds(ctx context.Context, page int64, keep int) context.Context {
	return context.WithValue(ctx, listBoundsKey{}, listBounds{page: page, keep: keep})
}

// boundsOf returns the bounds set on ctx, else the defaults.
func boundsOf(ctx context.Context) listBounds {
	b, _ := ctx.Value(listBoundsKey{}).(listBounds)
	if b.page <= 0 {
		b.page = maxListLimit
	}
	if b.keep <= 0 {
		b.keep = maxCandidates
	}
	return b
}

// eachListed is kube.EachListItem at the bounds set on ctx.
func eachListed[T any, L runtime.Object](ctx context.Context, opts metav1.ListOptions, list func(context.Context, metav1.ListOptions) (L, error), each func(*T) bool) error {
	return kube.EachListItem(ctx, boundsOf(ctx).page, opts, list, each)
}

// metadataFor is c's metadata client; clients built without a cluster
// (tool listings, tests) have none.
func metadataFor(c *kube.Clients) (metadata.Interface, error) {
	if c.Metadata == nil {
		return nil, errors.New("no metadata client: the clients were built without a cluster configuration")
	}
	return c.Metadata, nil
}

// listCandidates reads the names and labels of gvr's objects in ns ("" for
// all namespaces or a cluster-scoped kind) as metadata, page by page. It
// keeps at most boundsOf(ctx).keep; partial says there were more. kind is
// the Kind the candidates carry.
func listCandidates(ctx context.Context, c *kube.Clients, gvr schema.GroupVersionResource, ns, kind string) (cands []resolve.Candidate, partial bool, err error) {
	keep := boundsOf(ctx).keep
	add := func(name string, labels map[string]string) bool {
		if len(cands) == keep {
			partial = true
			return false
		}
		cands = append(cands, resolve.Candidate{Kind: kind, Name: name, Labels: labels})
		return true
	}
	m, err := metadataFor(c)
	if err != nil {
		return nil, false, err
	}
	err = eachListed(ctx, metav1.ListOptions{}, m.Resource(gvr).Namespace(ns).List, func(o *metav1.PartialObjectMetadata) bool {
		return add(o.Name, o.Labels)
	})
	if apierrors.IsNotAcceptable(err) && len(cands) == 0 {
		// An aggregated API server that cannot serve metadata only:
		// read whole objects, still a page at a time.
		err = eachListed(ctx, metav1.ListOptions{}, c.Dynamic.Resource(gvr).Namespace(ns).List, func(o *unstructured.Unstructured) bool {
			return add(o.GetName(), o.GetLabels())
		})
	}
	if err != nil {
		return nil, false, err
	}
	return cands, partial, nil
}

package diagnose

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/opsagent/opsagent/internal/kube"
)

// Paging. A snapshot reads whole kinds across a namespace or the cluster;
// one unpaged LIST of 50,000 pods is a response of about 100 MiB that the
// client holds, as bytes and decoded, all at once, and the API server builds
// in one piece too. Read a page at a time instead, and keep of each object
// only what the analyzers read (slimMeta), so that peak memory is what is
// kept plus a few pages, not the whole response twice. bench/diagnose and
// docs/performance.md have the figures.
//
// DefaultPageSize is how many objects one LIST returns: 5,000 pods are 10
// requests, and one page of pods is about 1 MiB of protobuf.
const DefaultPageSize = 500

// eachItem lists with list, a page of pageSize at a time (pageSize < 0:
// one unpaged LIST, the baseline bench/diagnose compares with; 0:
// DefaultPageSize), and calls each for every item. Items are pointers into
// the page: copy what is kept. A continue token that expired fails the
// list: it is reported as any other list failure.
func eachItem[T any, L runtime.Object](ctx context.Context, pageSize int64, opts metav1.ListOptions, list func(context.Context, metav1.ListOptions) (L, error), each func(*T)) error {
	switch {
	case pageSize < 0:
		pageSize = 0 // no limit: one LIST
	case pageSize == 0:
		pageSize = DefaultPageSize
	}
	return kube.EachListItem(ctx, pageSize, opts, list, func(t *T) bool {
		each(t)
		return true
	})
}

// slimMeta drops what diagnose never reads from an object it keeps:
// managed fields (often the largest part of an object as decoded) and
// kubectl's last-applied annotation, a full copy of the object.
//
// The annotation map may be shared with an informer's cache (watch): it is
// only written when the annotation is there, which a cache's transform has
// already removed, so a cached object is never written to.
func slimMeta(o metav1.Object) {
	o.SetManagedFields(nil)
	if a := o.GetAnnotations(); a != nil {
		// Not a needless guard: delete writes to the map even when the
		// key is absent, and a cache's map is read concurrently.
		if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok { //nolint:staticcheck // S1033: see above
			delete(a, corev1.LastAppliedConfigAnnotation)
		}
	}
}

// SlimObject is slimMeta for objects diagnose did not list itself: watch
// applies it as its informers' transform, so that a cache holds what a
// snapshot would.
func SlimObject(o metav1.Object) { slimMeta(o) }

// appendSlim returns a function that appends a slimmed copy of each item to
// *dst: the copy does not keep the page's items array alive.
func appendSlim[T any, PT interface {
	*T
	metav1.Object
}](dst *[]T) func(*T) {
	return func(t *T) {
		slimMeta(PT(t))
		*dst = append(*dst, *t)
	}
}

package kube

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/pager"
)

// EachListItem lists with list, pageSize objects at a time (0: one
// unpaged LIST), and calls each for every item until each returns false.
// Items are pointers into the page: copy what is kept. It is the one paged
// read of opsagent: diagnose's snapshot and the tools' name lookups both
// use it.
//
// client-go's pager is used because it does what a hand-written loop would
// not: it fetches the next page while the current one is processed (one
// page ahead, so that memory stays at about two pages). A continue token
// that expired (a list slower than the API server's compaction interval,
// about five minutes) fails the list like any other error; the pager's
// fall-back to one full list is not used, since it would bring back the
// memory peak paging removes.
func EachListItem[T any, L runtime.Object](ctx context.Context, pageSize int64, opts metav1.ListOptions, list func(context.Context, metav1.ListOptions) (L, error), each func(*T) bool) error {
	p := pager.New(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		l, err := list(ctx, o)
		if err != nil {
			return nil, err
		}
		return l, nil
	})
	p.PageSize = max(pageSize, 0)
	p.PageBufferSize = 1
	err := p.EachListItem(ctx, opts, func(o runtime.Object) error {
		t, ok := any(o).(*T)
		if !ok {
			return fmt.Errorf("list returned %T, want %T", o, t)
		}
		if !each(t) {
			return errStopListing
		}
		return nil
	})
	if errors.Is(err, errStopListing) {
		return nil
	}
	return err
}

// errStopListing ends a paged list early; EachListItem does not report it.
var errStopListing = errors.New("stop listing")

package tools

import (
	"context"
	"errors"
	"fmt"
	"maps"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// This file holds how every tool that changes an existing object writes the
// change a user approved: bound to the object that was previewed, but not to
// its status.

// writeAttempts bounds how often one approved change is written: the first
// try and the retries on an object whose resourceVersion moved while what
// was previewed stayed the same.
const writeAttempts = 3

// Previewable is an object a change is previewed on: a typed API object
// (*corev1.Service, ...) or a liveWorkload.
type Previewable[T any] interface {
	GetObjectMeta() metav1.Object
	DeepCopy() T
}

// PreviewedObject is the object a change was previewed on, and how to tell
// whether it is still that object.
type PreviewedObject[T Previewable[T]] struct {
	Obj T
	// Desc names the object in the conflict: "service/web in shop".
	Desc string
	// Get reads the object again.
	Get func(context.Context) (T, error)
	// Spec is what the change was computed from besides the object's
	// identity, labels and annotations: its spec, or the field of it that
	// matters. It is compared semantically (1Gi equals 1024Mi).
	Spec func(T) any
}

// Getter is a typed client's Get, e.g. CoreV1().Services(ns).
type Getter[T any] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
}

// PreviewedAPIObject is obj as previewed, read again through client.
func PreviewedAPIObject[T Previewable[T]](obj T, desc string, client Getter[T], spec func(T) any) PreviewedObject[T] {
	name := obj.GetObjectMeta().GetName()
	return PreviewedObject[T]{Obj: obj, Desc: desc, Spec: spec, Get: func(ctx context.Context) (T, error) {
		return client.Get(ctx, name, metav1.GetOptions{})
	}}
}

// WriteAsPreviewed writes a change that was previewed on p and approved.
// write applies the change to the copy of the object it is given and writes
// it bound to that copy's resourceVersion (an Update, or a patch naming the
// resourceVersion), so the API refuses the write if the object changed since
// it was read.
//
// The resourceVersion also moves with every status update (a rollout in
// progress, an autoscaler's metrics, a claim binding or resizing, a
// controller's conditions), which is no change of what the preview showed.
// So when the write conflicts and the object is still as previewed
// (unchanged), write runs again on the fresh object. Anything else, and an
// object deleted meanwhile, is ErrConflict, for the gate to re-plan;
// other failures are wrapped with what ("scale deployment/web in shop to 3").
func WriteAsPreviewed[T Previewable[T]](ctx context.Context, p PreviewedObject[T], what string, write func(context.Context, T) error) error {
	obj := p.Obj.DeepCopy()
	for attempt := 1; ; attempt++ {
		err := write(ctx, obj)
		switch {
		case err == nil:
			return nil
		case apierrors.IsNotFound(err):
			return p.changed()
		case !apierrors.IsConflict(err):
			return fmt.Errorf("%s: %w", what, err)
		case attempt == writeAttempts:
			return p.changed()
		}
		fresh, err := p.Get(ctx)
		switch {
		case errors.Is(err, ErrNotFound) || apierrors.IsNotFound(err):
			return p.changed()
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case !p.unchanged(fresh):
			return p.changed()
		}
		obj = fresh
	}
}

// unchanged says whether now is still the object that was previewed: the
// same object (UID), the same generation (which the API server moves on
// every spec change of the kinds that have one; Services and claims have
// none, so it is 0 on both sides), labels, annotations and spec (p.Spec).
// Status and server-set metadata (resourceVersion, managedFields) may differ.
func (p PreviewedObject[T]) unchanged(now T) bool {
	was, is := p.Obj.GetObjectMeta(), now.GetObjectMeta()
	return is.GetUID() == was.GetUID() && is.GetGeneration() == was.GetGeneration() &&
		maps.Equal(is.GetLabels(), was.GetLabels()) && maps.Equal(is.GetAnnotations(), was.GetAnnotations()) &&
		apiequality.Semantic.DeepEqual(p.Spec(p.Obj), p.Spec(now))
}

// changed is the conflict of an object that changed in a way that matters
// between the preview and the run.
func (p PreviewedObject[T]) changed() error {
	return fmt.Errorf("%w: %s changed since you approved; re-run to see the new state", ErrConflict, p.Desc)
}

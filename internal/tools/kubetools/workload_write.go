package kubetools

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// This file holds what tools.WriteAsPreviewed needs of a workload: how to read it
// again, what of it a change depends on, and how to write it.

// previewed is w as the workload tools preview a change on it: the whole
// spec (replicas, pod template, strategy, ...) counts.
func (w liveWorkload) previewed(c *kube.Clients) tools.PreviewedObject[liveWorkload] {
	return tools.PreviewedObject[liveWorkload]{Obj: w, Desc: w.ref.describe(), Spec: liveWorkload.spec,
		Get: func(ctx context.Context) (liveWorkload, error) { return getWorkload(ctx, c, w.ref) }}
}

// GetObjectMeta is the workload's metadata (metav1.ObjectMetaAccessor).
func (w liveWorkload) GetObjectMeta() metav1.Object { return w.meta() }

// spec is the workload's spec, for comparing.
func (w liveWorkload) spec() any {
	switch {
	case w.deploy != nil:
		return w.deploy.Spec
	case w.sts != nil:
		return w.sts.Spec
	}
	return w.ds.Spec
}

// putWorkload writes w, bound to the resourceVersion it carries.
func putWorkload(ctx context.Context, c *kube.Clients, w liveWorkload) error {
	apps, opts := c.Typed.AppsV1(), metav1.UpdateOptions{}
	var err error
	switch {
	case w.deploy != nil:
		_, err = apps.Deployments(w.ref.Namespace).Update(ctx, w.deploy, opts)
	case w.sts != nil:
		_, err = apps.StatefulSets(w.ref.Namespace).Update(ctx, w.sts, opts)
	default:
		_, err = apps.DaemonSets(w.ref.Namespace).Update(ctx, w.ds, opts)
	}
	return err
}

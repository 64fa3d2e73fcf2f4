package watch

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/opsagent/opsagent/internal/diagnose"
)

// slim is the informers' transform: each cached object holds what a
// diagnose snapshot would, so a cache of a big cluster weighs what one
// diagnosis does, not what the API server sent.
func slim(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		// Key names only: diagnose checks that a referenced key exists,
		// and values can be large.
		for k := range o.Data {
			o.Data[k] = ""
		}
		for k := range o.BinaryData {
			o.BinaryData[k] = nil
		}
		diagnose.SlimObject(o)
	case metav1.Object:
		diagnose.SlimObject(o)
	}
	return obj, nil
}

// changeHandler calls changed on what can change a diagnosis: every add
// and delete, and updates except those that cannot (a node's heartbeat,
// which every node sends every few seconds).
func changeHandler(changed func()) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { changed() },
		UpdateFunc: func(before, after any) {
			if relevantUpdate(before, after) {
				changed()
			}
		},
		DeleteFunc: func(any) { changed() },
	}
}

// relevantUpdate reports whether an update can change what diagnose finds.
func relevantUpdate(before, after any) bool {
	b, okB := before.(metav1.Object)
	a, okA := after.(metav1.Object)
	if okB && okA && b.GetResourceVersion() == a.GetResourceVersion() {
		return false // a relist that found nothing new
	}
	bn, okB := before.(*corev1.Node)
	an, okA := after.(*corev1.Node)
	if okB && okA {
		return nodeChanged(bn, an)
	}
	return true
}

// nodeChanged compares what the node analyzer reads: conditions without
// their heartbeat times, schedulability, taints, labels and capacity.
func nodeChanged(b, a *corev1.Node) bool {
	if !equality.Semantic.DeepEqual(b.Spec, a.Spec) ||
		!maps.Equal(b.Labels, a.Labels) ||
		!equality.Semantic.DeepEqual(b.Status.Allocatable, a.Status.Allocatable) ||
		!equality.Semantic.DeepEqual(b.Status.Capacity, a.Status.Capacity) {
		return true
	}
	type cond struct {
		t              corev1.NodeConditionType
		s              corev1.ConditionStatus
		reason, msg    string
		lastTransition metav1.Time
	}
	conds := func(n *corev1.Node) []cond {
		out := make([]cond, len(n.Status.Conditions))
		for i, c := range n.Status.Conditions {
			out[i] = cond{c.Type, c.Status, c.Reason, c.Message, c.LastTransitionTime}
		}
		return out
	}
	return !slices.EqualFunc(conds(b), conds(a), func(x, y cond) bool {
		return x.t == y.t && x.s == y.s && x.reason == y.reason && x.msg == y.msg && x.lastTransition.Equal(&y.lastTransition)
	})
}

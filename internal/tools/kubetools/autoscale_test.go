package kubetools

import (
	"errors"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/opsagent/opsagent/internal/tools"
)

func (e *clusterEnv) getHPA(t *testing.T, name string) *autoscalingv2.HorizontalPodAutoscaler {
	t.Helper()
	h, err := e.Client.AutoscalingV2().HorizontalPodAutoscalers(e.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get hpa %s: %v", name, err)
	}
	return h
}

// wantHPA checks an autoscaler's spec against min, max and CPU target.
func wantHPA(t *testing.T, h *autoscalingv2.HorizontalPodAutoscaler, target string, lo, hi, cpu int32) {
	t.Helper()
	ref := h.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || strings.ToLower(ref.Kind)+"/"+ref.Name != target {
		t.Errorf("hpa %s targets %+v, want %s", h.Name, ref, target)
	}
	if replicasOr1(h.Spec.MinReplicas) != lo || h.Spec.MaxReplicas != hi || cpuTarget(h) != cpu {
		t.Errorf("hpa %s: min %d max %d cpu %d%%, want %d, %d, %d%%", h.Name, replicasOr1(h.Spec.MinReplicas), h.Spec.MaxReplicas, cpuTarget(h), lo, hi, cpu)
	}
}

func TestAutoscale(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "backend", replicas: 1, containers: []corev1.Container{
		{Name: "app", Image: "registry.example/backend:1.0", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}},
		{Name: "metrics", Image: "registry.example/exporter:1.0"},
	}})
	target := tools.Target{Kind: "HorizontalPodAutoscaler", Namespace: e.Namespace, Name: "backend"}

	rec := e.mustCall(t, NameAutoscale, map[string]any{"name": "backend", "min_replicas": 2, "max_replicas": 5, "cpu_percent": 70})
	wantPreview(t, rec, "horizontalpodautoscaler/backend in "+e.Namespace+": create for deployment/backend: replicas 2–5 at 70% CPU", tools.Write, target)
	// One container has no CPU request: the autoscaler could not work.
	if d := rec.Preview.Diff; !strings.Contains(d, "container metrics has no CPU request") || strings.Contains(d, "container app") ||
		!strings.Contains(d, "deployment/backend has replicas 1 now; the autoscaler will move it into 2–5") {
		t.Errorf("preview diff = %q, want the missing request and the replica move", d)
	}
	wantHPA(t, e.getHPA(t, "backend"), "deployment/backend", 2, 5, 70)
	if res := resultAs[AutoscaleResult](t, rec); !res.Created || res.MaxReplicas != 5 {
		t.Errorf("result = %+v", res)
	}

	wantNoChange(t, e.call(t, NameAutoscale, map[string]any{"name": "backend", "min_replicas": 2, "max_replicas": 5, "cpu_percent": 70}))

	// The existing autoscaler is updated in place.
	rec = e.mustCall(t, NameAutoscale, map[string]any{"name": "backend", "min_replicas": 3, "max_replicas": 6, "cpu_percent": 50})
	wantPreview(t, rec, "horizontalpodautoscaler/backend in "+e.Namespace+" (for deployment/backend): min 2 → 3, max 5 → 6, CPU target 70% → 50%", tools.Write, target)
	wantHPA(t, e.getHPA(t, "backend"), "deployment/backend", 3, 6, 50)
}

func TestAutoscaleRefusals(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "backend", replicas: 1})
	e.createDeployment(t, deploySpec{name: "worker", replicas: 1})

	for _, args := range []map[string]any{
		{"min_replicas": 0, "max_replicas": 5, "cpu_percent": 70},
		{"min_replicas": 3, "max_replicas": 2, "cpu_percent": 70},
		{"min_replicas": 1, "max_replicas": 1001, "cpu_percent": 70},
		{"min_replicas": 1, "max_replicas": 5, "cpu_percent": 0},
		{"min_replicas": 1, "max_replicas": 5, "cpu_percent": 101},
		{"min_replicas": 1, "max_replicas": 5},
		{"min_replicas": 1, "max_replicas": 5, "cpu_percent": 50, "kind": "daemonset"},
	} {
		args["name"] = "backend"
		wantRefused(t, e.call(t, NameAutoscale, args), tools.ErrInvalidArgs)
	}

	// An autoscaler named "backend" that scales another workload is not
	// taken over.
	other := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "backend"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "worker"},
			MaxReplicas:    4,
			Metrics:        []autoscalingv2.MetricSpec{cpuMetric(80)},
		},
	}
	if _, err := e.Client.AutoscalingV2().HorizontalPodAutoscalers(e.Namespace).Create(t.Context(), other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec := e.call(t, NameAutoscale, map[string]any{"name": "backend", "min_replicas": 2, "max_replicas": 5, "cpu_percent": 70})
	if err := rec.Err(); err == nil || rec.Approved || !strings.Contains(err.Error(), "scales deployment/worker, not deployment/backend") {
		t.Errorf("error = %v, want a refusal naming the autoscaler's real target", err)
	}
	wantHPA(t, e.getHPA(t, "backend"), "deployment/worker", 1, 4, 80)
}

func TestAutoscaleConflict(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "backend", replicas: 2})
	e.mustCall(t, NameAutoscale, map[string]any{"name": "backend", "min_replicas": 2, "max_replicas": 5, "cpu_percent": 70})

	action := e.prepare(t, NameAutoscale, map[string]any{"name": "backend", "min_replicas": 2, "max_replicas": 8, "cpu_percent": 70})
	// The autoscaler controller writes its status too: retry our own write.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		h := e.getHPA(t, "backend")
		h.Spec.MaxReplicas = 3
		_, err := e.Client.AutoscalingV2().HorizontalPodAutoscalers(e.Namespace).Update(t.Context(), h, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("Run error = %v, want ErrConflict", err)
	}
	wantHPA(t, e.getHPA(t, "backend"), "deployment/backend", 2, 3, 70)
}

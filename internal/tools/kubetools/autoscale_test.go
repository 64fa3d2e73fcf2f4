package kubetools

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// Between the preview and the run, a change of the autoscaler's spec,
// labels or annotations is a conflict; a status update, which the
// autoscaler controller makes about every 15 s, is not.
func TestAutoscaleChangedSincePreview(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	hpas := e.Client.AutoscalingV2().HorizontalPodAutoscalers(e.Namespace)
	tests := []struct {
		name      string
		meanwhile func(t *testing.T, hpa string)
		wantErr   error
		wantMax   int32
	}{
		{name: "status only", meanwhile: func(t *testing.T, hpa string) {
			touchObjectStatus(t, hpas, hpa, func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Status.Conditions = append(h.Status.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
					Type: touchedCondition, Status: corev1.ConditionTrue, Reason: "StatusOnly", LastTransitionTime: metav1.Now(),
				})
			})
		}, wantMax: 8},
		{name: "labels", meanwhile: func(t *testing.T, hpa string) {
			updateObject(t, hpas, hpa, func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Labels = map[string]string{"changed-by": "someone-else"}
			})
		}, wantErr: tools.ErrConflict, wantMax: 5},
		{name: "max changed by someone else", meanwhile: func(t *testing.T, hpa string) {
			updateObject(t, hpas, hpa, func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 3 })
		}, wantErr: tools.ErrConflict, wantMax: 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			deploy := fmt.Sprintf("backend-%d", i)
			e.createDeployment(t, deploySpec{name: deploy, replicas: 2})
			e.mustCall(t, NameAutoscale, map[string]any{"name": deploy, "min_replicas": 2, "max_replicas": 5, "cpu_percent": 70})
			action := e.prepare(t, NameAutoscale, map[string]any{"name": deploy, "min_replicas": 2, "max_replicas": 8, "cpu_percent": 70})
			tt.meanwhile(t, deploy)

			_, err := action.Run(t.Context())
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), "re-run")) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			wantHPA(t, e.getHPA(t, deploy), "deployment/"+deploy, 2, tt.wantMax, 70)
		})
	}
}

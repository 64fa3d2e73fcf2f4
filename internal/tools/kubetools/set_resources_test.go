package kubetools

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

// backendWithMemory is a deployment whose container requests 128Mi.
func backendWithMemory(t *testing.T, e *clusterEnv) {
	t.Helper()
	e.createDeployment(t, deploySpec{name: "backend", replicas: 1, containers: []corev1.Container{{
		Name: "app", Image: "registry.example/backend:1.0",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}},
	}}})
}

func TestSetResources(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	backendWithMemory(t, e)

	// "Give the backend 512Mi of memory", the usual fix for an OOMKilled pod.
	rec := e.mustCall(t, NameSetResources, map[string]any{"name": "backend", "requests_memory": "256Mi", "limits_memory": "512Mi", "limits_cpu": "500m"})
	wantPreview(t, rec, "deployment/backend in "+e.Namespace+": container app resources: requests.memory 128Mi → 256Mi, limits.cpu none → 500m, limits.memory none → 512Mi",
		tools.Write, tools.Target{Kind: "Deployment", Namespace: e.Namespace, Name: "backend"})
	if res := resultAs[TemplateChangeResult](t, rec); !res.Converged {
		t.Errorf("result = %+v, want converged", res)
	}
	r := e.getDeployment(t, "backend").Spec.Template.Spec.Containers[0].Resources
	for _, c := range []struct {
		got  resource.Quantity
		want string
	}{
		{r.Requests[corev1.ResourceMemory], "256Mi"},
		{r.Limits[corev1.ResourceMemory], "512Mi"},
		{r.Limits[corev1.ResourceCPU], "500m"},
	} {
		if c.got.Cmp(resource.MustParse(c.want)) != 0 {
			t.Errorf("resources = %v, want %s", r, c.want)
		}
	}
	if _, ok := r.Requests[corev1.ResourceCPU]; ok {
		t.Errorf("requests.cpu was set although not asked for: %v", r.Requests)
	}

	// The same quantities in other units are no change.
	wantNoChange(t, e.call(t, NameSetResources, map[string]any{"name": "backend", "requests_memory": "0.25Gi", "limits_memory": "536870912"}))
}

func TestSetResourcesRejectsBadQuantities(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	backendWithMemory(t, e)

	tests := []struct {
		name string
		args map[string]any
		says string
	}{
		{"nothing to set", map[string]any{}, "at least one"},
		{"not a quantity", map[string]any{"requests_cpu": "lots"}, "not a quantity"},
		{"negative", map[string]any{"requests_cpu": "-100m"}, "negative"},
		{"zero memory limit", map[string]any{"limits_memory": "0"}, "not a usable limit"},
		{"absurd cpu", map[string]any{"limits_cpu": "2000"}, "1024 cores"},
		{"absurd memory", map[string]any{"requests_memory": "5Ti"}, "4Ti"},
		{"milli for mega", map[string]any{"limits_memory": "512m"}, "did you mean 512Mi?"},
		{"wrong type", map[string]any{"limits_memory": 512}, "must be of type string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.args["name"] = "backend"
			rec := e.call(t, NameSetResources, tt.args)
			wantRefused(t, rec, tools.ErrInvalidArgs, tt.says)
		})
	}
	// A limit below the live request is refused before the API sees it.
	rec := e.call(t, NameSetResources, map[string]any{"name": "backend", "limits_memory": "64Mi"})
	wantRefused(t, rec, tools.ErrInvalidArgs, "requests.memory (128Mi) would be above limits.memory (64Mi)", "limits_memory to at least 128Mi")
	if rec.Preview != nil {
		t.Errorf("got a preview for a refused change: %+v", rec.Preview)
	}
	if d := e.getDeployment(t, "backend"); d.Generation != 1 {
		t.Errorf("refused calls changed the deployment (generation %d)", d.Generation)
	}
}

func TestSetResourcesConflict(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	backendWithMemory(t, e)
	action := e.prepare(t, NameSetResources, map[string]any{"name": "backend", "requests_memory": "256Mi"})

	d := e.getDeployment(t, "backend")
	d.Spec.Template.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200Mi")}
	if _, err := e.Client.AppsV1().Deployments(e.Namespace).Update(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Writing the preview now would put the request above the new limit.
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("Run error = %v, want ErrConflict", err)
	}
	r := e.getDeployment(t, "backend").Spec.Template.Spec.Containers[0].Resources
	if q := r.Requests[corev1.ResourceMemory]; q.Cmp(resource.MustParse("128Mi")) != 0 {
		t.Errorf("requests.memory = %s after a refused update, want 128Mi", q.String())
	}
}

// The sandbox's OOMKilled simulation: pods that keep being killed never
// become ready, so the tool reports ErrNotConverged with the reason.
func TestSetResourcesNotConverged(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "backend", replicas: 1, noWait: true,
		podLabels: map[string]string{"sim.opsagent.dev/state": "OOMKilled"}})

	rec := e.call(t, NameSetResources, map[string]any{"name": "backend", "limits_memory": "64Mi", "timeout_seconds": 3})
	if err := rec.Err(); !errors.Is(err, tools.ErrNotConverged) {
		t.Fatalf("error = %v, want ErrNotConverged", err)
	}
	r := e.getDeployment(t, "backend").Spec.Template.Spec.Containers[0].Resources
	if q := r.Limits[corev1.ResourceMemory]; q.Cmp(resource.MustParse("64Mi")) != 0 {
		t.Errorf("limits.memory = %s, want 64Mi (the change was made)", q.String())
	}
}

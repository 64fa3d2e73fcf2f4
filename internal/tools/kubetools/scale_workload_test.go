package kubetools

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestScaleWorkload(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "todo-chatbot-backend", replicas: 1,
		labels: map[string]string{"app.kubernetes.io/component": "backend"}})

	// "backend" is how a person says it; the resolver finds the deployment.
	rec := e.mustCall(t, NameScaleWorkload, map[string]any{"name": "backend", "replicas": 3})
	wantPreview := "deployment/todo-chatbot-backend in " + e.Namespace + ": replicas 1 → 3"
	if rec.Preview == nil || rec.Preview.Summary != wantPreview {
		t.Errorf("preview = %+v, want %q", rec.Preview, wantPreview)
	}
	if rec.ApprovedBy != "--yes" {
		t.Errorf("approved by %q, want --yes", rec.ApprovedBy)
	}
	res := resultAs[ScaleResult](t, rec)
	if !res.Converged || res.Before != 1 || res.After != 3 || res.Progress.Ready != 3 {
		t.Errorf("result = %+v, want converged 1 → 3 with 3 ready", res)
	}
	if d := e.getDeployment(t, "todo-chatbot-backend"); d.Status.ReadyReplicas != 3 || *d.Spec.Replicas != 3 {
		t.Errorf("deployment has %d/%d ready, want 3/3", d.Status.ReadyReplicas, *d.Spec.Replicas)
	}

	// The same request again changes nothing and asks nothing.
	rec = e.mustCall(t, NameScaleWorkload, map[string]any{"name": "todo-chatbot-backend", "replicas": 3, "kind": "deploy"})
	if rec.Preview == nil || !rec.Preview.NoChange {
		t.Errorf("second scale preview = %+v, want NoChange", rec.Preview)
	}

	// Pods show up Running through list_resources with kubectl's columns.
	list := resultAs[ListResult](t, e.mustCall(t, NameListResources, map[string]any{"kind": "po", "selector": "app=todo-chatbot-backend"}))
	if list.Count != 3 {
		t.Fatalf("listed %d pods, want 3: %+v", list.Count, list)
	}
	for _, r := range list.Items {
		if r.Status != "Running" || r.Ready != "1/1" || r.Node == "" || r.Restarts != "0" {
			t.Errorf("pod row %+v, want Running 1/1 on a node", r)
		}
	}
}

func TestScaleWorkloadConflict(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1})
	tool, _ := e.gate.Registry.Lookup(NameScaleWorkload)

	action, err := tool.Prepare(t.Context(), []byte(`{"name":"web","replicas":2}`))
	if err != nil {
		t.Fatal(err)
	}
	// Someone changes the deployment after the preview was shown.
	d := e.getDeployment(t, "web")
	d.Labels["changed-by"] = "someone-else"
	if _, err := e.Client.AppsV1().Deployments(e.Namespace).Update(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	_, err = action.Run(t.Context())
	if !errors.Is(err, tools.ErrConflict) || !strings.Contains(err.Error(), "re-run") {
		t.Fatalf("Run error = %v, want ErrConflict telling to re-run", err)
	}
	if got := e.getDeployment(t, "web"); *got.Spec.Replicas != 1 {
		t.Errorf("replicas = %d after a refused scale, want 1", *got.Spec.Replicas)
	}
}

func TestScaleWorkloadRejectsHugeReplicas(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	before := e.createDeployment(t, deploySpec{name: "web", replicas: 1})

	for _, replicas := range []string{"1000000000", "1e9", "-1", "1001"} {
		rec := e.gate.Call(t.Context(), NameScaleWorkload, []byte(`{"name":"web","replicas":`+replicas+`}`))
		if !errors.Is(rec.Err(), tools.ErrInvalidArgs) || !tools.IsBadInput(rec.Err()) {
			t.Errorf("replicas %s: error = %v, want ErrInvalidArgs", replicas, rec.Err())
		}
		if rec.Preview != nil || rec.Approved {
			t.Errorf("replicas %s: got a preview or approval for invalid args: %+v", replicas, rec)
		}
	}
	after := e.getDeployment(t, "web")
	if *after.Spec.Replicas != 1 || after.Generation != before.Generation {
		t.Errorf("deployment changed: replicas %d generation %d → %d", *after.Spec.Replicas, before.Generation, after.Generation)
	}
}

func TestAmbiguousAndUnknownNames(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "shop-backend", replicas: 1})
	e.createDeployment(t, deploySpec{name: "blog-backend", replicas: 1})

	rec := e.call(t, NameScaleWorkload, map[string]any{"name": "backend", "replicas": 2})
	if err := rec.Err(); !errors.Is(err, tools.ErrAmbiguous) ||
		!strings.Contains(err.Error(), "deployment/shop-backend") || !strings.Contains(err.Error(), "deployment/blog-backend") {
		t.Fatalf("error = %v, want ErrAmbiguous listing both deployments", err)
	}
	rec = e.call(t, NameRestartWorkload, map[string]any{"name": "payments"})
	if err := rec.Err(); !errors.Is(err, tools.ErrNotFound) || !strings.Contains(err.Error(), "deployment/shop-backend") {
		t.Fatalf("error = %v, want ErrNotFound listing the workloads that exist", err)
	}
	for _, name := range []string{"shop-backend", "blog-backend"} {
		if d := e.getDeployment(t, name); *d.Spec.Replicas != 1 || d.Generation != 1 {
			t.Errorf("%s changed (replicas %d, generation %d)", name, *d.Spec.Replicas, d.Generation)
		}
	}
	// The exact name is never ambiguous.
	e.mustCall(t, NameScaleWorkload, map[string]any{"name": "shop-backend", "replicas": 2})
}

package kubetools

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestScaleWorkload(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "todo-chatbot-backend", replicas: 1,
		labels: map[string]string{"app.kubernetes.io/component": "backend"}})

	// "backend" is how a person says it; the resolver finds the deployment.
	rec := e.mustCall(t, NameScaleWorkload, map[string]any{"name": "backend", "replicas": 3})
	wantPreview(t, rec, "deployment/todo-chatbot-backend in "+e.Namespace+": replicas 1 → 3",
		tools.Write, tools.Target{Kind: "Deployment", Namespace: e.Namespace, Name: "todo-chatbot-backend"})
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

// Between the preview and the run, a change of what the scale was computed
// from (the spec, labels, annotations) is a conflict; a status update, which
// a live cluster makes all the time, is not.
func TestScaleWorkloadChangedSincePreview(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	tests := []struct {
		name         string
		meanwhile    func(t *testing.T, deploy string)
		wantErr      error
		wantReplicas int32
	}{
		{name: "status only", meanwhile: e.touchStatus, wantReplicas: 2},
		{name: "labels", meanwhile: func(t *testing.T, deploy string) {
			e.updateDeployment(t, deploy, func(d *appsv1.Deployment) { d.Labels["changed-by"] = "someone-else" })
		}, wantErr: tools.ErrConflict, wantReplicas: 1},
		{name: "scaled by someone else", meanwhile: func(t *testing.T, deploy string) {
			e.updateDeployment(t, deploy, func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](3) })
		}, wantErr: tools.ErrConflict, wantReplicas: 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			deploy := fmt.Sprintf("web-%d", i)
			e.createDeployment(t, deploySpec{name: deploy, replicas: 1})
			action := e.prepare(t, NameScaleWorkload, map[string]any{"name": deploy, "replicas": 2, "wait": false})
			tt.meanwhile(t, deploy)

			_, err := action.Run(t.Context())
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), "re-run")) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			if got := *e.getDeployment(t, deploy).Spec.Replicas; got != tt.wantReplicas {
				t.Errorf("replicas = %d after the run, want %d", got, tt.wantReplicas)
			}
		})
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

func TestScaleWorkloadByPercent(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "backend", replicas: 2})
	target := tools.Target{Kind: "Deployment", Namespace: e.Namespace, Name: "backend"}

	// "Scale the backend up by 100%".
	rec := e.mustCall(t, NameScaleWorkload, map[string]any{"name": "backend", "change_percent": 100})
	wantPreview(t, rec, "deployment/backend in "+e.Namespace+": replicas 2 → 4 (+100%)", tools.Write, target)
	if d := e.getDeployment(t, "backend"); *d.Spec.Replicas != 4 || d.Status.ReadyReplicas != 4 {
		t.Errorf("deployment has %d/%d ready, want 4/4", d.Status.ReadyReplicas, *d.Spec.Replicas)
	}
	// "... down by 50%".
	rec = e.mustCall(t, NameScaleWorkload, map[string]any{"name": "backend", "change_percent": -50})
	wantPreview(t, rec, "deployment/backend in "+e.Namespace+": replicas 4 → 2 (-50%)", tools.Write, target)
	if d := e.getDeployment(t, "backend"); *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %d, want 2", *d.Spec.Replicas)
	}

	for _, args := range []map[string]any{
		{"name": "backend"},
		{"name": "backend", "replicas": 3, "change_percent": 50},
		{"name": "backend", "change_percent": -101},
		{"name": "backend", "change_percent": 1001},
		{"name": "backend", "change_percent": 50000},
		{"name": "backend", "replicas": nil},
	} {
		wantRefused(t, e.call(t, NameScaleWorkload, args), tools.ErrInvalidArgs)
	}
	if d := e.getDeployment(t, "backend"); *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %d after refused calls, want 2", *d.Spec.Replicas)
	}
}

func TestScaleToZeroIsDestructive(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "backend", replicas: 2})
	target := tools.Target{Kind: "Deployment", Namespace: e.Namespace, Name: "backend"}

	// --yes alone does not stop a workload, however it is asked for.
	for _, args := range []map[string]any{
		{"name": "backend", "replicas": 0},
		{"name": "backend", "change_percent": -100},
	} {
		rec := e.call(t, NameScaleWorkload, args)
		wantRefused(t, rec, tools.ErrApprovalRequired, "--allow-destructive")
		if rec.Risk != tools.Destructive || rec.Preview == nil || rec.Preview.Risk != tools.Destructive {
			t.Errorf("%v: risk %s (preview %+v), want destructive", args, rec.Risk, rec.Preview)
		}
	}
	if d := e.getDeployment(t, "backend"); *d.Spec.Replicas != 2 {
		t.Fatalf("replicas = %d after a refused scale to 0, want 2", *d.Spec.Replicas)
	}

	e.gate.Approver = &tools.Policy{AssumeYes: true, AllowDestructive: true}
	rec := e.mustCall(t, NameScaleWorkload, map[string]any{"name": "backend", "replicas": 0})
	wantPreview(t, rec, "deployment/backend in "+e.Namespace+": replicas 2 → 0", tools.Destructive, target)
	if d := e.getDeployment(t, "backend"); *d.Spec.Replicas != 0 {
		t.Errorf("replicas = %d, want 0", *d.Spec.Replicas)
	}
	// From 0 a percentage means nothing.
	wantRefused(t, e.call(t, NameScaleWorkload, map[string]any{"name": "backend", "change_percent": 100}), tools.ErrInvalidArgs, "give replicas instead")
	// Scaling up again is an ordinary write.
	rec = e.mustCall(t, NameScaleWorkload, map[string]any{"name": "backend", "replicas": 1})
	wantPreview(t, rec, "deployment/backend in "+e.Namespace+": replicas 0 → 1", tools.Write, target)
}

func TestDesiredReplicasRoundsHalfUp(t *testing.T) {
	t.Parallel()
	ref := workloadRef{Kind: kindDeployment, Name: "web", Namespace: "ns"}
	tests := []struct {
		before     int32
		pct, want  int
		wantErr    bool
		wantSuffix string
	}{
		{before: 2, pct: 100, want: 4, wantSuffix: " (+100%)"},
		{before: 4, pct: -50, want: 2, wantSuffix: " (-50%)"},
		{before: 3, pct: -50, want: 2},  // 1.5 rounds up
		{before: 1, pct: 50, want: 2},   // 1.5 rounds up
		{before: 3, pct: 10, want: 3},   // 3.3 rounds down
		{before: 5, pct: -100, want: 0}, // stop
		{before: 1, pct: 0, want: 1},
		{before: 100, pct: 1000, wantErr: true}, // 1100 > 1000
		{before: 0, pct: 50, wantErr: true},
	}
	for _, tt := range tests {
		got, note, err := desiredReplicas(ref, tt.before, ScaleWorkloadArgs{ChangePercent: &tt.pct})
		if (err != nil) != tt.wantErr || (err == nil && int(got) != tt.want) {
			t.Errorf("%d %+d%%: got %d, %v; want %d (error %v)", tt.before, tt.pct, got, err, tt.want, tt.wantErr)
		}
		if tt.wantSuffix != "" && note != tt.wantSuffix {
			t.Errorf("%d %+d%%: note %q, want %q", tt.before, tt.pct, note, tt.wantSuffix)
		}
	}
}

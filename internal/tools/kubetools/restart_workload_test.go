package kubetools

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestRestartWorkload(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "todo-api", replicas: 2, labels: map[string]string{"app.kubernetes.io/name": "api"}})

	rec := e.mustCall(t, NameRestartWorkload, map[string]any{"name": "api"})
	if rec.Preview == nil || !strings.Contains(rec.Preview.Summary, "deployment/todo-api in "+e.Namespace+": rollout restart (revision 1") {
		t.Errorf("preview = %+v", rec.Preview)
	}
	if want := (tools.Target{Kind: "Deployment", Namespace: e.Namespace, Name: "todo-api"}); !slices.Equal(rec.Preview.Targets, []tools.Target{want}) {
		t.Errorf("targets = %v, want %v", rec.Preview.Targets, want)
	}
	res := resultAs[RestartResult](t, rec)
	if !res.Converged || res.RevisionBefore != "1" || res.RevisionAfter != "2" {
		t.Errorf("result = %+v, want converged from revision 1 to 2", res)
	}
	d := e.getDeployment(t, "todo-api")
	at := d.Spec.Template.Annotations[restartedAtAnnotation]
	if at != res.RestartedAt {
		t.Fatalf("template annotation %s = %q, want %q", restartedAtAnnotation, at, res.RestartedAt)
	}
	if _, err := time.Parse(time.RFC3339, at); err != nil {
		t.Errorf("restartedAt %q is not RFC 3339 like kubectl's: %v", at, err)
	}
	if d.Status.ReadyReplicas != 2 || d.Status.UpdatedReplicas != 2 {
		t.Errorf("after restart %d ready, %d updated; want 2 and 2", d.Status.ReadyReplicas, d.Status.UpdatedReplicas)
	}

	// rollout_status agrees the rollout is complete.
	st := resultAs[RolloutStatusResult](t, e.mustCall(t, NameRolloutStatus, map[string]any{"name": "todo-api", "timeout_seconds": 30}))
	if !st.Converged || !st.Progress.Done || st.Revision != "2" {
		t.Errorf("rollout status = %+v, want done at revision 2", st)
	}
}

// Between the preview and the run, a change of the spec (here the pod
// template) is a conflict; a status update is not.
func TestRestartWorkloadChangedSincePreview(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	tests := []struct {
		name        string
		meanwhile   func(t *testing.T, deploy string)
		wantErr     error
		wantRestart bool
	}{
		{name: "status only", meanwhile: e.touchStatus, wantRestart: true},
		{name: "template changed by someone else", meanwhile: func(t *testing.T, deploy string) {
			e.updateDeployment(t, deploy, func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "registry.example/web:3.0" })
		}, wantErr: tools.ErrConflict},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			deploy := fmt.Sprintf("api-%d", i)
			e.createDeployment(t, deploySpec{name: deploy, replicas: 1})
			action := e.prepare(t, NameRestartWorkload, map[string]any{"name": deploy, "wait": false})
			tt.meanwhile(t, deploy)

			_, err := action.Run(t.Context())
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), "re-run")) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			_, restarted := e.getDeployment(t, deploy).Spec.Template.Annotations[restartedAtAnnotation]
			if restarted != tt.wantRestart {
				t.Errorf("template has %s: %v, want %v", restartedAtAnnotation, restarted, tt.wantRestart)
			}
		})
	}
}

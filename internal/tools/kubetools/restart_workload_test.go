package kubetools

import (
	"slices"
	"strings"
	"testing"
	"time"

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

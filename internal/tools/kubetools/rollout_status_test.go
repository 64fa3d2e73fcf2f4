package kubetools

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/tools"
)

// crashLabel makes the sandbox's kwok stages crash-loop a pod's containers.
const crashLabel = "sim.opsagent.dev/state"

// TestRolloutStuck is the bad-release story: a new template whose pods
// crash. rollout_status reports the progress deadline and the crashing pods;
// a scale that cannot converge says so instead of hanging.
func TestRolloutStuck(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1})
	d := e.getDeployment(t, "web")
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](2)
	d.Spec.Template.Labels[crashLabel] = "CrashLoopBackOff"
	if _, err := e.Client.AppsV1().Deployments(e.Namespace).Update(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	st := resultAs[RolloutStatusResult](t, e.mustCall(t, NameRolloutStatus, map[string]any{"name": "web", "timeout_seconds": 60}))
	if st.Converged || !st.Progress.DeadlineExceeded || !strings.Contains(st.Message, "stuck") {
		t.Fatalf("rollout status = %+v, want stuck on its progress deadline", st)
	}
	if len(st.NotReadyPods) == 0 {
		t.Errorf("no not-ready pods reported: %+v", st)
	}

	// Without waiting, the state is reported at once.
	now := resultAs[RolloutStatusResult](t, e.mustCall(t, NameRolloutStatus, map[string]any{"name": "web", "wait": false}))
	if now.Waited || now.Converged {
		t.Errorf("wait=false status = %+v", now)
	}

	// Scaling the broken deployment does not converge within the timeout:
	// the change is made, the call fails with ErrNotConverged (exit code 5)
	// and says which pods are not ready and why.
	rec := e.call(t, NameScaleWorkload, map[string]any{"name": "web", "replicas": 2, "timeout_seconds": 3})
	if !errors.Is(rec.Err(), tools.ErrNotConverged) || !rec.Changed() {
		t.Fatalf("scale of a broken deployment: err = %v, changed = %v; want ErrNotConverged after the change", rec.Err(), rec.Changed())
	}
	res := resultAs[ScaleResult](t, rec)
	if res.Converged || !res.Waited || len(res.NotReadyPods) == 0 || !strings.Contains(res.Message, "only") {
		t.Errorf("scale of a broken deployment = %+v, want not converged with not-ready pods", res)
	}
	for _, p := range res.NotReadyPods {
		if p.Status == "Running" {
			t.Errorf("not-ready pod %s reported as Running: %+v", p.Name, p)
		}
	}
}

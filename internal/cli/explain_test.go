package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/testcluster"
)

func TestExplainCommand(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	getenv := diagEnv(t, nil)
	cluster := []string{"--kubeconfig", env.Kubeconfig, "-n", env.Namespace}
	diagPod(t, env, "fine", map[string]string{"app": "fine"})
	diagWait(t, ExitOK, getenv, append([]string{"explain"}, cluster...)...)
	diagPod(t, env, "todo-backend", map[string]string{"sim.opsagent.dev/state": "OOMKilled", "app": "backend"})

	// No argument: every failing pod.
	r := diagWait(t, ExitProblemsFound, getenv, append([]string{"explain", "-o", "json"}, cluster...)...)
	var list diagnose.ExplainList
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("JSON: %v\n%s", err, r.stdout)
	}
	if list.Kind != "ExplainList" || len(list.Items) != 1 || list.Items[0].Target.Name != "todo-backend" {
		t.Errorf("list = %+v", list)
	}

	// A short name, text output.
	r = diagCLI(t, getenv, append([]string{"explain", "backend"}, cluster...)...)
	if r.code != ExitProblemsFound {
		t.Fatalf("explain backend: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"pod/todo-backend in namespace " + env.Namespace + ": failing", "Pods", "Events, newest first", "OOMKilled", "Cause", "Fix"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, r.stdout)
		}
	}
	// A healthy pod: exit 0.
	if r := diagCLI(t, getenv, append([]string{"explain", "pod/fine", "-o", "json"}, cluster...)...); r.code != ExitOK || !strings.Contains(r.stdout, `"healthy": true`) {
		t.Errorf("explain pod/fine: exit %d\n%s", r.code, r.stdout)
	}
}

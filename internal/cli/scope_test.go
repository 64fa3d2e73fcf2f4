package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/agent/agenttest"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// A model that decides to change another namespace under --yes is refused
// (exit 3) with a message naming the scope it would need, and nothing
// changes there; the same change scoped with -n to that namespace runs.
func TestYesCoversOnlyTheRequestsNamespace(t *testing.T) {
	home := testcluster.New(t)
	other := testcluster.New(t)
	isolateEnv(t)
	other.Deployment(t, backendName, 1)

	call := `{"name":"backend","namespace":"` + other.Namespace + `","replicas":2}`
	m := agenttest.NewFakeModel(t,
		agenttest.Calls(agenttest.Call("c1", "scale_workload", call)),
		agenttest.Answer("I tried to scale the backend in the other namespace."),
		agenttest.Calls(agenttest.Call("c2", "scale_workload", call)),
		agenttest.Answer("Scaled."),
	)
	t.Setenv("OPENAI_API_KEY", "test-key")
	t.Setenv("OPENAI_BASE_URL", m.URL())

	res := runCLI(t, "", clusterArgs(t, home, "scale the backend to 2", "--yes", "-o", "json")...)
	if res.code != ExitApprovalRequired {
		t.Fatalf("exit %d, want 3\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	var run jsonRun
	if err := json.Unmarshal([]byte(res.stdout), &run); err != nil {
		t.Fatalf("%v\n%s", err, res.stdout)
	}
	if len(run.Actions) != 1 || run.Actions[0].Approved || !strings.Contains(run.Actions[0].Error, "-n "+other.Namespace) {
		t.Fatalf("actions = %+v, want one refused action naming -n %s", run.Actions, other.Namespace)
	}
	if got := other.Replicas(t, backendName); got != 1 {
		t.Fatalf("the other namespace's backend has %d replicas; the refused change was made", got)
	}

	// Scoped to that namespace, --yes approves the same call.
	res = runCLI(t, "", clusterArgs(t, other, "scale the backend to 2", "--yes")...)
	if res.code != ExitOK {
		t.Fatalf("scoped run: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if got := other.Replicas(t, backendName); got != 2 {
		t.Errorf("spec.replicas = %d after the scoped run, want 2", got)
	}
}

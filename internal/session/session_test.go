package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/session"
	"github.com/opsagent/opsagent/internal/tools"
)

// upgradeArgs has the shape of helm_deploy's --set and release arguments.
type upgradeArgs struct {
	Release   string   `json:"release"`
	Namespace string   `json:"namespace,omitempty"`
	ValuesSet []string `json:"values_set,omitempty"`
}

// fakeUpgrade is a mutating tool in namespace todo that records the
// --set values it was run with and returns a result without them.
func fakeUpgrade(ran *atomic.Pointer[[]string]) tools.Tool {
	return tools.Define("fake_upgrade", "Upgrade a release (test double).", tools.Write,
		func(_ context.Context, a upgradeArgs) (tools.Action, error) {
			return tools.Mutation{
				Plan: tools.Preview{
					Summary: "release " + a.Release + " in todo: upgrade",
					Targets: []tools.Target{{Kind: "Deployment", Namespace: "todo", Name: a.Release}},
				},
				Apply: func(context.Context) (any, error) {
					ran.Store(&a.ValuesSet)
					return map[string]any{"revision": 2}, nil
				},
			}, nil
		})
}

// newGate builds the gate as the CLI does (session.NewGate) over the fake
// tool, for a kube context whose namespace is todo.
func newGate(ran *atomic.Pointer[[]string], auditLog string) *tools.Gate {
	clients := &kube.Clients{Context: "test", Namespace: "todo"}
	return session.NewGate(tools.NewRegistry(fakeUpgrade(ran)), clients, session.GateSettings{Yes: true, AuditLog: auditLog})
}

// TestGateMasksSetPasswords: a --set db.password=… value reaches the tool
// unchanged but neither the audit log nor the record -o json prints.
func TestGateMasksSetPasswords(t *testing.T) {
	t.Parallel()
	const secret = "hunter2"
	logPath := filepath.Join(t.TempDir(), "audit.log")
	var ran atomic.Pointer[[]string]
	gate := newGate(&ran, logPath)

	args := `{"release":"todo-chatbot","values_set":["backend.replicaCount=2","db.password=` + secret + `"]}`
	rec := gate.Call(t.Context(), "fake_upgrade", json.RawMessage(args))
	if rec.Err() != nil {
		t.Fatalf("call: %v", rec.Err())
	}
	if got := ran.Load(); got == nil || len(*got) != 2 || (*got)[1] != "db.password="+secret {
		t.Fatalf("the tool ran with values_set %v, want the password unmasked", got)
	}

	out, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), secret) {
		t.Errorf("the record (-o json) holds the password: %s", out)
	}
	if !strings.Contains(string(rec.Args), "backend.replicaCount=2") {
		t.Errorf("record args = %s, want the other values kept", rec.Args)
	}

	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "\n"); n != 2 {
		t.Fatalf("audit log has %d lines, want started and done:\n%s", n, log)
	}
	if strings.Contains(string(log), secret) {
		t.Errorf("the audit log holds the password:\n%s", log)
	}
	if !strings.Contains(string(log), "db.password=") {
		t.Errorf("audit log does not say which value was set:\n%s", log)
	}
}

// TestGateWithoutHomeRefusesChanges: with no home folder and no
// XDG_STATE_HOME there is no default audit log (no /tmp fallback), and the
// gate refuses a change before asking or running it.
func TestGateWithoutHomeRefusesChanges(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("XDG_STATE_HOME", "")
	path := config.DefaultAuditLog(os.Getenv)
	if path != "" {
		t.Fatalf("DefaultAuditLog without a home = %q, want \"\"", path)
	}
	var ran atomic.Pointer[[]string]
	rec := newGate(&ran, path).Call(t.Context(), "fake_upgrade", json.RawMessage(`{"release":"todo-chatbot"}`))
	if rec.Err() == nil || !strings.Contains(rec.Error, "audit log") || !strings.Contains(rec.Error, "OPSAGENT_AUDIT_LOG") {
		t.Fatalf("call error = %v, want a refusal naming the audit log and how to set it", rec.Err())
	}
	if rec.Approved || ran.Load() != nil {
		t.Error("the change was approved or run without an audit log")
	}
	if errors.Is(rec.Err(), tools.ErrApprovalRequired) {
		t.Error("refused as needing approval; want the audit log named as the reason")
	}
}

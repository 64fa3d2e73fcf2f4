package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/agent/agenttest"
	"github.com/opsagent/opsagent/internal/agent/report"
	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/tools"
)

func TestText(t *testing.T) {
	t.Parallel()
	c := agenttest.NewCluster("todo", map[string]int{"todo-chatbot-backend": 1})
	c.SetLogs("todo-chatbot-backend", "line one\nline two")
	reg := tools.NewRegistry(c.Tools()...)
	a, err := agent.New(agent.Config{
		Gate: &tools.Gate{Registry: reg, Approver: &tools.Policy{AssumeYes: true}, Scope: tools.Scope{Namespace: "todo"}}, Planner: planner.New(reg),
		NoModelReason: "no key",
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		request string
		want    []string
	}{
		{"scale backend to 3", []string{"mode: fallback (no key)", "→ scale_workload", "[write]",
			"change: deployment/todo-chatbot-backend in todo: replicas 1 → 3", "approved: --yes", "Done:"}},
		{"show logs of backend", []string{"→ pod_logs", "logs:\n    line one\n    line two"}},
		{"list deployments", []string{"items: todo-chatbot-backend"}},
		{"scale nothing to 3", []string{"✗ deployment \"nothing\" in namespace todo: not found"}},
	}
	for _, tt := range tests {
		run, err := a.Run(context.Background(), tt.request)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := report.Text(&b, run, report.Options{ShowReadResults: true, ShowRequest: true}); err != nil {
			t.Fatal(err)
		}
		for _, w := range append(tt.want, "» "+tt.request) {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%q: report lacks %q:\n%s", tt.request, w, b.String())
			}
		}
	}
}

// Cluster text (here a log line that retitles the window and clears the
// screen) reaches the terminal without its control characters.
func TestTextStripsControlCharacters(t *testing.T) {
	t.Parallel()
	c := agenttest.NewCluster("todo", map[string]int{"todo-chatbot-backend": 1})
	c.SetLogs("todo-chatbot-backend", "ok\x1b]0;pwned\x07\nfine\x1b[2J\x1b[H\u009b31m")
	reg := tools.NewRegistry(c.Tools()...)
	a, err := agent.New(agent.Config{
		Gate:    &tools.Gate{Registry: reg, Approver: &tools.Policy{AssumeYes: true}, Scope: tools.Scope{Namespace: "todo"}},
		Planner: planner.New(reg), NoModelReason: "no key",
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := a.Run(context.Background(), "show logs of backend")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.Text(&b, run, report.Options{ShowReadResults: true}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\x07\u009b") {
		t.Errorf("the report passes control characters to the terminal: %q", b.String())
	}
	if !strings.Contains(b.String(), "ok]0;pwned\n    fine[2J[H31m") {
		t.Errorf("the log text itself is gone:\n%s", b.String())
	}
}

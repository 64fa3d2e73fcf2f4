package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/agent/report"
	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
)

// Release descriptions and chart notes are written by whoever deployed the
// chart: the status and history text prints them without their control
// characters.
func TestRecordStripsControlCharacters(t *testing.T) {
	t.Parallel()
	hostile := release.Release{Name: "todo", Namespace: "todo", Revision: 2, Status: "failed",
		Description: "Upgrade failed\x1b]0;pwned\x07\x1b[2J"}
	tests := []struct {
		name   string
		result any
		want   string
	}{
		{"status", &release.Status{Release: hostile, Notes: "visit \x1b[8mhidden\x1b[0m http://x"}, "DESCRIPTION: Upgrade failed]0;pwned[2J"},
		{"history", &releasetools.HistoryResult{Release: "todo", Namespace: "todo", Revisions: []release.Release{hostile}}, "Upgrade failed]0;pwned[2J"},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := report.Record(&b, &tools.Record{Tool: "helm_" + tt.name, Result: tt.result}, report.Options{ShowReadResults: true}); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(b.String(), "\x1b\x07") {
			t.Errorf("%s: the text passes control characters to the terminal: %q", tt.name, b.String())
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s: text lacks %q:\n%s", tt.name, tt.want, b.String())
		}
	}
}

// A record prints the same on its own (a one-call command such as install)
// as under its call in an agent run: Text only adds the call line and the
// indent.
func TestRecordIsTheRunsAction(t *testing.T) {
	t.Parallel()
	deployed := &release.DeployResult{Action: release.ActionInstall,
		Release: release.Release{Name: "todo", Namespace: "todo", Revision: 1, Status: "deployed", Chart: "todo-chatbot-0.1.0", Updated: time.Unix(0, 0)},
		Objects: []release.Object{{Kind: "Deployment", Name: "todo-backend"}}, Notes: "Visit the app."}
	tests := []struct {
		name string
		rec  *tools.Record
		want string
	}{
		{"install", &tools.Record{Tool: "helm_deploy", Risk: tools.Write, ApprovedBy: "--yes",
			Preview: &tools.Preview{Summary: "install release todo", Diff: "+ Deployment/todo-backend"}, Result: deployed},
			"change: install release todo\n        + Deployment/todo-backend\napproved: --yes\n" +
				"✓ Release \"todo\" installed in namespace \"todo\": revision 1, status deployed, chart todo-chatbot-0.1.0.\n" +
				"  " + deployed.Objects[0].String() + "\n\nNOTES:\nVisit the app.\n"},
		{"dry run", &tools.Record{Tool: "helm_deploy", Risk: tools.Write, DryRun: true,
			Preview: &tools.Preview{Summary: "install release todo"}},
			"change: install release todo\ndry run: nothing was changed\n"},
		{"refused", &tools.Record{Tool: "helm_uninstall", Risk: tools.Destructive, Error: "approval required: add --allow-destructive"},
			"✗ approval required: add --allow-destructive\n"},
		{"message", &tools.Record{Tool: "create_secret", Risk: tools.Write, Result: map[string]any{"message": "secret s created", "keys": 1}},
			"✓ secret s created\n"},
		{"read", &tools.Record{Tool: "list_pods", Result: map[string]any{"items": []string{"a", "b"}}},
			"items: a, b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var one bytes.Buffer
			if err := report.Record(&one, tt.rec, report.Options{ShowReadResults: true}); err != nil {
				t.Fatal(err)
			}
			if one.String() != tt.want {
				t.Errorf("Record:\n%s\nwant:\n%s", one.String(), tt.want)
			}
			tt.rec.Args = json.RawMessage(`{}`)
			run := &agent.Run{Mode: agent.ModeFallback, Actions: []*tools.Record{tt.rec}}
			var inRun bytes.Buffer
			if err := report.Text(&inRun, run, report.Options{ShowReadResults: true}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(tt.want, "\n"), "\n")
			for i, l := range lines {
				if l != "" {
					lines[i] = "  " + l
				}
			}
			call := "→ " + tt.rec.Tool + " {}"
			if tt.rec.Risk.Mutates() {
				call += "  [" + tt.rec.Risk.String() + "]"
			}
			if want := "mode: fallback\n\n" + call + "\n" + strings.Join(lines, "\n") + "\n"; inRun.String() != want {
				t.Errorf("Text:\n%s\nwant:\n%s", inRun.String(), want)
			}
		})
	}
}

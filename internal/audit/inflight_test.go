package audit_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/opsagent/opsagent/internal/audit"
	"github.com/opsagent/opsagent/internal/tools"
)

// TestRecoveryCommands: an interrupted Helm action is checked with the
// release's status and history, a workload with its rollout status; every
// value is quoted for pasting into a shell, however the release is named.
func TestRecoveryCommands(t *testing.T) {
	t.Parallel()
	backend := tools.Target{Kind: "Deployment", Namespace: "todo", Name: "todo-chatbot-backend"}
	tests := []struct {
		name    string
		tool    string
		args    string
		targets []tools.Target
		want    []string
	}{
		{
			name: "helm rollback",
			tool: "helm_rollback", args: `{"release":"todo-chatbot","namespace":"todo","revision":2}`,
			want: []string{"opsagent status todo-chatbot -n todo", "opsagent history todo-chatbot -n todo"},
		},
		{
			name: "helm upgrade, namespace from its targets",
			tool: "helm_deploy", args: `{"release":"todo-chatbot","values_set":["backend.replicaCount=2"]}`,
			targets: []tools.Target{backend},
			want:    []string{"opsagent status todo-chatbot -n todo", "opsagent history todo-chatbot -n todo"},
		},
		{
			name: "hostile release name",
			tool: "helm_rollback", args: `{"release":"x; rm -rf ~ $(id) 'q'\n","namespace":"te st"}`,
			want: []string{
				`opsagent status 'x; rm -rf ~ $(id) '\''q'\'' ' -n 'te st'`,
				`opsagent history 'x; rm -rf ~ $(id) '\''q'\'' ' -n 'te st'`,
			},
		},
		{
			name: "helm without release or namespace",
			tool: "helm_uninstall", args: `{}`,
			want: []string{"opsagent status", "opsagent history"},
		},
		{
			name: "workload",
			tool: "scale_workload", args: `{"name":"backend","replicas":3}`,
			targets: []tools.Target{backend},
			want:    []string{"kubectl rollout status deployment/todo-chatbot-backend -n todo"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := tools.AuditEntry{Phase: tools.AuditStarted, Tool: tt.tool, Args: json.RawMessage(tt.args), Targets: tt.targets}
			if got := audit.RecoveryCommands(e); !slices.Equal(got, tt.want) {
				t.Errorf("RecoveryCommands() =\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
}

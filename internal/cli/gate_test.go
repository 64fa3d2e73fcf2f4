package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/session"
	"github.com/opsagent/opsagent/internal/tools"
)

func TestApprovalPromptShowsEverythingAPersonApproves(t *testing.T) {
	t.Parallel()
	req := tools.ApprovalRequest{
		Tool: "apply_objects",
		Args: json.RawMessage(`{"manifests":"kind: Secret","db_password":"hunter2hunter2"}`),
		Risk: tools.Write,
		Preview: tools.Preview{
			Summary: "create rolebinding/ops in kube-system\x1b[2J\x1b[H",
			Diff:    "+ roleRef: cluster-admin",
			Targets: []tools.Target{{Kind: "RoleBinding", Namespace: "kube-system", Name: "ops"}},
		},
		Privileged: []string{"rolebinding/ops: an RBAC RoleBinding grants permissions"},
		Scope:      tools.Scope{Namespace: "todo"},
		OutOfScope: []tools.Target{{Kind: "RoleBinding", Namespace: "kube-system", Name: "ops"}},
	}
	got := approvalPrompt(req, session.MaskArgs)
	for _, want := range []string{
		"apply_objects (write)", "arguments:", `"manifests"`, "changes:   rolebinding/ops in kube-system",
		"privileged: rolebinding/ops", `outside this request's namespace "todo"`, "+ roleRef: cluster-admin",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("prompt lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "hunter2hunter2") {
		t.Errorf("prompt shows a secret-looking argument value:\n%s", got)
	}
	if strings.ContainsRune(got, '\x1b') {
		t.Errorf("prompt passes an escape sequence from the cluster to the terminal: %q", got)
	}
}

// Bad input is exit 2 even when no cluster can be reached: flags and the
// request are checked before any client is built.
func TestBadInputWithoutKubeconfig(t *testing.T) {
	isolateEnv(t)
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	tests := []struct {
		name string
		args []string
	}{
		{"empty request", []string{""}},
		{"bad output", []string{"list pods", "-o", "yaml"}},
		{"timeout above the tools' limit", []string{"scale backend to 2", "--timeout", "31m"}},
		{"oversized request", []string{strings.Repeat("scale backend to 2 ", 1000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, "", tt.args...)
			if res.code != ExitBadInput {
				t.Errorf("exit %d, want 2\n%s", res.code, res.stderr)
			}
		})
	}
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/opsagent/opsagent/internal/audit"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// gateSettings are the approval flags every mutating command shares.
type gateSettings struct {
	Yes, AllowDestructive, AllowPrivileged, DryRun bool
	// CreateNamespace is the namespace the user named with
	// --create-namespace: creating it is within the request's scope.
	CreateNamespace string
	// Ask prompts on a terminal; nil when nobody can be asked.
	Ask      func(context.Context, tools.ApprovalRequest) (bool, error)
	AuditLog string
}

// newGate is the one place a command turns its flags into the approval
// gate, so the agent and the fixed subcommands approve and audit alike.
func newGate(reg *tools.Registry, c *kube.Clients, s gateSettings) *tools.Gate {
	policy := &tools.Policy{AssumeYes: s.Yes, AllowDestructive: s.AllowDestructive, AllowPrivileged: s.AllowPrivileged, Ask: s.Ask}
	return &tools.Gate{
		Registry: reg,
		Approver: policy,
		// --yes covers the namespace the request is scoped to: -n, else
		// the kubeconfig's.
		Scope:  tools.Scope{Namespace: namespaceOrDefault(c), CreateNamespace: s.CreateNamespace},
		DryRun: s.DryRun,
		Audit:  audit.New(s.AuditLog, c.Context, namespaceOrDefault(c)),
		// Records go to -o json, the audit log and back to the model.
		Mask: maskArgs,
	}
}

// namespaceOrDefault is the namespace commands act in when none is given:
// the one rule the tools use (kubetools.NamespaceFor).
func namespaceOrDefault(c *kube.Clients) string { return kubetools.NamespaceFor(c, "") }

// maskArgs hides secret-looking argument values (--set db.password=…) in
// everything the gate records and in approval prompts.
var maskArgs = redact.MaskArgs

// approvalPrompt is what a person approves: the tool, its effective risk,
// every argument (secret-looking values masked), what it touches, why it is
// privileged or outside the request's scope, and the diff.
func approvalPrompt(req tools.ApprovalRequest, mask func(json.RawMessage) json.RawMessage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s (%s): %s\n", req.Tool, req.Risk, terminalSafe(req.Preview.Summary))
	args := req.Args
	if mask != nil {
		args = mask(args)
	}
	fmt.Fprintf(&b, "  arguments: %s\n", terminalSafe(string(args)))
	for _, t := range req.Preview.Targets {
		fmt.Fprintf(&b, "  changes:   %s\n", terminalSafe(t.String()))
	}
	for _, why := range req.Privileged {
		fmt.Fprintf(&b, "  privileged: %s\n", terminalSafe(why))
	}
	if len(req.OutOfScope) > 0 {
		fmt.Fprintf(&b, "  outside this request's namespace %q: ", req.Scope.Namespace)
		for i, t := range req.OutOfScope {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(terminalSafe(t.String()))
		}
		b.WriteString("\n")
	}
	if req.Preview.Diff != "" {
		b.WriteString(terminalSafe(req.Preview.Diff) + "\n")
	}
	return b.String()
}

// terminalSafe drops control characters (ANSI escapes included) from text
// that comes from the cluster or a model, so it cannot rewrite the screen
// a person approves from. Newlines and tabs stay.
func terminalSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

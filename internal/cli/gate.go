package cli

import (
	"context"

	"github.com/opsagent/opsagent/internal/audit"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// gateSettings are the approval flags every mutating command shares.
type gateSettings struct {
	Yes, AllowDestructive, DryRun bool
	// Ask prompts on a terminal; nil when nobody can be asked.
	Ask      func(context.Context, tools.ApprovalRequest) (bool, error)
	AuditLog string
}

// newGate is the one place a command turns its flags into the approval
// gate, so the agent and the fixed subcommands approve and audit alike.
func newGate(reg *tools.Registry, c *kube.Clients, s gateSettings) *tools.Gate {
	policy := &tools.Policy{AssumeYes: s.Yes, AllowDestructive: s.AllowDestructive, Ask: s.Ask}
	return &tools.Gate{
		Registry: reg,
		Approver: policy,
		DryRun:   s.DryRun,
		Audit:    audit.New(s.AuditLog, c.Context, namespaceOrDefault(c)),
	}
}

// namespaceOrDefault is the namespace commands act in when none is given.
func namespaceOrDefault(c *kube.Clients) string {
	if c.Namespace == "" {
		return "default"
	}
	return c.Namespace
}

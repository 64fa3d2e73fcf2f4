// Package session binds one caller's Kubernetes clients to the tools, the
// approval gate and the agent. Every surface — the CLI, `opsagent serve`,
// `opsagent mcp` — builds them here, so a request approves, audits and
// reaches the model alike whichever way it came in.
package session

import (
	"context"
	"log/slog"
	"time"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/audit"
	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// GateSettings are the approval settings every mutating surface shares: the
// CLI's flags, or a server's equivalent options.
type GateSettings struct {
	Yes, AllowDestructive, AllowPrivileged, DryRun bool
	// CreateNamespace is the namespace the user named with
	// --create-namespace: creating it is within the request's scope.
	CreateNamespace string
	// Ask asks a person (a terminal prompt, an MCP elicitation, an HTTP
	// approval); nil when nobody can be asked. AskedBy names it in records.
	Ask     func(context.Context, tools.ApprovalRequest) (bool, error)
	AskedBy string
	// AuditLog is the audit file; Via and Caller are written on each entry
	// ("mcp", the client's name; "http", the Kubernetes user).
	AuditLog    string
	Via, Caller string
}

// NewGate is the one place settings become the approval gate.
func NewGate(reg *tools.Registry, c *kube.Clients, s GateSettings) *tools.Gate {
	policy := &tools.Policy{AssumeYes: s.Yes, AllowDestructive: s.AllowDestructive, AllowPrivileged: s.AllowPrivileged, Ask: s.Ask, AskedBy: s.AskedBy}
	log := audit.New(s.AuditLog, c.Context, Namespace(c))
	log.Via, log.Caller = s.Via, s.Caller
	return &tools.Gate{
		Registry: reg,
		Approver: policy,
		// --yes covers the namespace the request is scoped to: -n, else
		// the kubeconfig's.
		Scope:  tools.Scope{Namespace: Namespace(c), CreateNamespace: s.CreateNamespace},
		DryRun: s.DryRun,
		Audit:  log,
		// Records go to -o json, the audit log and back to the model.
		Mask: MaskArgs,
	}
}

// Namespace is the namespace a request acts in when it names none: the one
// rule the tools use (kubetools.NamespaceFor).
func Namespace(c *kube.Clients) string { return kubetools.NamespaceFor(c, "") }

// MaskArgs hides secret-looking argument values (--set db.password=…) in
// everything the gate records and in approval prompts.
var MaskArgs = redact.MaskArgs

// AgentSettings shape the agent of one request.
type AgentSettings struct {
	Config config.Config
	// PlannerOnly forces the deterministic planner (--no-llm).
	PlannerOnly bool
	MaxSteps    int
	ToolTimeout time.Duration
	Progress    agent.Progress
	Logger      *slog.Logger
}

// NewAgent builds the agent over gate: the model when a key is configured
// (with a redactor fed from the Secrets the caller can read), else the
// planner alone.
func NewAgent(c *kube.Clients, gate *tools.Gate, s AgentSettings) (*agent.Agent, error) {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg := agent.Config{
		Gate:        gate,
		Planner:     planner.New(gate.Registry),
		Prompt:      agent.PromptData{Context: c.Context, Namespace: Namespace(c)},
		MaxSteps:    s.MaxSteps,
		ToolTimeout: s.ToolTimeout,
		Progress:    s.Progress,
		Logger:      log,
	}
	switch {
	case s.PlannerOnly:
		cfg.NoModelReason = "--no-llm"
	case !s.Config.LLMEnabled():
		cfg.NoModelReason = "no " + config.KeyAPIKey + " configured"
	default:
		red := redact.New(c.Typed, log)
		red.AddValues(s.Config.APIKey)
		cfg.Model, cfg.ModelName, cfg.Redactor = agent.NewChatClient(s.Config), s.Config.Model, red
	}
	return agent.New(cfg)
}

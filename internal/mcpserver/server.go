// Package mcpserver offers opsagent's tools to any Model Context Protocol
// client (an IDE, a desktop assistant, another agent) — the same typed tools,
// the same approval gate, the same redaction and audit log as the CLI.
//
// Two ways in, one set of rules:
//
//   - NewServer returns the *mcp.Server `opsagent mcp` runs over stdio: every
//     call acts with the kubeconfig's credentials (the user started it).
//   - NewHandler returns the Streamable HTTP handler (`opsagent mcp --http`,
//     and `opsagent serve` mounts it at /mcp): every call acts as the holder
//     of the request's own bearer token, judged by the cluster's RBAC.
//
// Every call goes through one tools.Gate built by session.NewGate. A
// mutation is previewed, then approved by a person through MCP elicitation
// (the preview, the diff, approve or decline) when the client can ask one,
// or by the server's own flags (--yes, scoped to its namespace, and
// --allow-destructive / --allow-privileged) as on the CLI. A tool argument
// never approves anything: arguments are decoded strictly against the
// tool's schema, which has no such field. docs/mcp.md has the design.
package mcpserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/session"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/version"
)

// Name is the server name sent to clients in initialize.
const Name = "opsagent"

// protocolVersions are the MCP versions served. 2026-07-28 is left out on
// purpose: it forbids a server-initiated request while a tool call is in
// flight (elicitation becomes a second round trip, SEP-2322), and approval
// here is one step inside one gate call — preview, ask, run, re-plan and ask
// again on a conflict. Clients on that version negotiate 2025-11-25, which
// every client in use speaks.
var protocolVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// Options shape a server. The zero value of each approval flag is the safe
// one: nothing is approved without a person.
type Options struct {
	// NewTools returns every tool bound to one caller's clients
	// (toolset.New). It is called once to declare the list and once per
	// caller; building tools does no I/O.
	NewTools func(*kube.Clients) []tools.Tool
	// ReadOnly serves only the tools that never change the cluster.
	ReadOnly bool
	// Tools, if set, narrows the list to these names (--tools).
	Tools []string

	// The approval flags, as on the CLI: Yes approves writes in the
	// server's namespace (-n, else the kubeconfig's) without asking;
	// destructive and privileged changes also need their own flag, however
	// they are approved.
	Yes, AllowDestructive, AllowPrivileged bool
	// AuditLog is the audit file (config.Config.AuditLog).
	AuditLog string
	// MaxOutput caps the text of each result, in bytes (default: the agent
	// loop's cap, agent.DefaultMaxToolOutput).
	MaxOutput int
	// Logger receives the server's logs (never stdout: that is the stdio
	// transport).
	Logger *slog.Logger
}

// declared is the tool list a server offers, fixed at start.
type declared struct {
	tools []tools.Tool
	names []string
}

// selectTools applies --read-only and --tools to the full list. An unknown
// name, or a mutating tool named under --read-only, is an error: a typo
// must not silently serve less (or more) than asked.
func selectTools(all []tools.Tool, o Options) (declared, error) {
	known := make([]string, 0, len(all))
	for _, t := range all {
		known = append(known, t.Name())
	}
	slices.Sort(known)
	var unknown, mutating []string
	for _, n := range o.Tools {
		i := slices.IndexFunc(all, func(t tools.Tool) bool { return t.Name() == n })
		switch {
		case i < 0:
			unknown = append(unknown, n)
		case o.ReadOnly && all[i].Risk().Mutates():
			mutating = append(mutating, n)
		}
	}
	if len(unknown) > 0 {
		return declared{}, fmt.Errorf("%w: --tools: unknown tool %s (known tools: %s)", ErrInvalidOptions, strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	if len(mutating) > 0 {
		return declared{}, fmt.Errorf("%w: --tools names tools that change the cluster (%s), and --read-only serves only read tools; drop them or --read-only", ErrInvalidOptions, strings.Join(mutating, ", "))
	}
	var out declared
	for _, t := range all {
		if o.ReadOnly && t.Risk().Mutates() {
			continue
		}
		if len(o.Tools) > 0 && !slices.Contains(o.Tools, t.Name()) {
			continue
		}
		out.tools = append(out.tools, t)
		out.names = append(out.names, t.Name())
	}
	if len(out.tools) == 0 {
		return declared{}, fmt.Errorf("%w: no tool left to serve", ErrInvalidOptions)
	}
	return out, nil
}

// caller is who a call acts as: its clients, and the registry of the
// declared tools bound to them.
type caller struct {
	clients *kube.Clients
	reg     *tools.Registry
	// user is the Kubernetes user a bearer token belongs to ("" on stdio,
	// where the kubeconfig's user is the one who started the server).
	user string
}

// newCaller binds the declared tools to clients.
func newCaller(o Options, d declared, c *kube.Clients, user string) *caller {
	var ts []tools.Tool
	for _, t := range o.NewTools(c) {
		if slices.Contains(d.names, t.Name()) {
			ts = append(ts, t)
		}
	}
	return &caller{clients: c, reg: tools.NewRegistry(ts...), user: user}
}

// core is what the stdio server and the HTTP handler share.
type core struct {
	opts     Options
	declared declared
	log      *slog.Logger
	// callerFor says whom a call acts as; it fails closed.
	callerFor func(*mcp.CallToolRequest) (*caller, error)
}

func newCore(o Options) (*core, error) {
	if o.NewTools == nil {
		return nil, errors.New("mcpserver: Options.NewTools is required")
	}
	o.MaxOutput = cmp.Or(o.MaxOutput, agent.DefaultMaxToolOutput)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// The list only: names, schemas and risks do not depend on clients.
	d, err := selectTools(o.NewTools(&kube.Clients{}), o)
	if err != nil {
		return nil, err
	}
	return &core{opts: o, declared: d, log: o.Logger}, nil
}

// newMCPServer declares every selected tool once, from the tool itself.
func (c *core) newMCPServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: Name, Title: "opsagent: Kubernetes operations", Version: version.String()}, &mcp.ServerOptions{
		Instructions:              instructions,
		Logger:                    c.log,
		SupportedProtocolVersions: protocolVersions,
	})
	for _, t := range c.declared.tools {
		s.AddTool(declareTool(t), c.handler(t.Name()))
	}
	addPrompts(s, c.declared)
	return s
}

// instructions tell the client's model what it cannot learn from a schema.
const instructions = `opsagent's tools act on one Kubernetes cluster. Read tools run at once. Every change is previewed against the live cluster and then approved by a person: this server asks through elicitation when the client supports it, and otherwise only the server's own flags can approve (a tool argument never does). If a result says a change needs approval, tell the user what it said; do not retry with other arguments to get around it. Secret values in results are replaced by [REDACTED].`

// handler runs one tool through the gate and returns what the client may
// see: redacted, capped, with isError for anything that did not succeed.
func (c *core) handler(name string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		who, err := c.callerFor(req)
		if err != nil {
			return errorResult(err.Error()), nil
		}
		args := req.Params.Arguments
		// A redactor per call: Secrets created since the last call (by this
		// server or anyone) are removed by value too. Loading the default
		// namespace's Secrets is one LIST; ModelResult adds the namespaces
		// the arguments name.
		red := redact.New(who.clients.Typed, c.log)
		_ = red.LoadNamespace(ctx, session.Namespace(who.clients)) // logged inside; patterns still apply

		client := clientName(req.Session)
		settings := session.GateSettings{
			Yes: c.opts.Yes, AllowDestructive: c.opts.AllowDestructive, AllowPrivileged: c.opts.AllowPrivileged,
			AuditLog: c.opts.AuditLog, Via: "mcp", Caller: auditCaller(client, who.user),
		}
		canAsk := canElicit(req.Session)
		if canAsk {
			settings.Ask, settings.AskedBy = elicitApproval(req.Session, red), "mcp elicitation"
		}
		gate := session.NewGate(who.reg, who.clients, settings)
		rec := gate.Call(ctx, name, args)
		res := agent.ModelResult(ctx, red, rec, args, c.opts.MaxOutput)
		return toolResult(rec, res, canAsk, session.Namespace(who.clients)), nil
	}
}

// clientName is the name the client gave in initialize, for the audit log.
func clientName(ss *mcp.ServerSession) string {
	if ss == nil {
		return ""
	}
	if p := ss.InitializeParams(); p != nil && p.ClientInfo != nil {
		return cmp.Or(p.ClientInfo.Title, p.ClientInfo.Name)
	}
	return ""
}

// auditCaller is who the audit log names: the client, and over HTTP the
// Kubernetes user whose token made the call.
func auditCaller(client, user string) string {
	client = cmp.Or(client, "unnamed MCP client")
	if user == "" {
		return client
	}
	return user + " via " + client
}

// ErrInvalidOptions marks options that cannot be served (an unknown tool
// name, a mutating tool under --read-only): bad input, found at start.
var ErrInvalidOptions = errors.New("invalid MCP server options")

// Validate checks the tool selection without connecting to anything.
func (o Options) Validate() error {
	if o.NewTools == nil {
		return errors.New("mcpserver: Options.NewTools is required")
	}
	_, err := selectTools(o.NewTools(&kube.Clients{}), o)
	return err
}

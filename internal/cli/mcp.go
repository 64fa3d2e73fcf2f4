package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/mcpserver"
	"github.com/opsagent/opsagent/internal/session"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
	"github.com/opsagent/opsagent/internal/toolset"
)

// MCPOptions are the flags of `opsagent mcp`.
type MCPOptions struct {
	// HTTP is the address to serve Streamable HTTP on; empty serves stdio.
	HTTP      string
	ReadOnly  bool
	Tools     []string
	ChartDirs []string
	// approvalFlags: --yes, --allow-destructive, --allow-privileged and
	// --audit-log; MCP clients approve the rest.
	approvalFlags

	global *GlobalOptions
	genericiooptions.IOStreams

	// Resolved by Complete.
	server mcpserver.Options
	getenv func(string) string
}

// NewMCPOptions returns the defaults.
func NewMCPOptions(g *GlobalOptions, streams genericiooptions.IOStreams) *MCPOptions {
	return &MCPOptions{global: g, IOStreams: streams, getenv: os.Getenv}
}

// NewCmdMCP builds `opsagent mcp`.
func NewCmdMCP(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewMCPOptions(g, streams)
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve opsagent's tools to MCP clients (stdio, or Streamable HTTP with --http)",
		Long: `Serve opsagent's tools to any Model Context Protocol client: an IDE, a desktop
assistant, another agent. The same typed tools, approval gate, redaction and
audit log as the CLI.

Over stdio (the default) every call acts with the kubeconfig, --context and -n
the command was started with. With --http ADDR the same server is served as
Streamable HTTP at /mcp, bound to 127.0.0.1 unless ADDR names a host; every
request must carry the caller's own Kubernetes token (Authorization: Bearer),
and acts as that caller.

Changes are previewed and then approved by a person: the server asks through
MCP elicitation (the preview and diff, approve or decline) when the client
supports it. Otherwise only this server's flags approve: --yes approves
changes in its namespace (-n, else the kubeconfig's) without asking;
destructive and privileged changes also need --allow-destructive and
--allow-privileged, whoever approves them. No tool argument approves anything.
Details: docs/mcp.md.`,
		Example: `  opsagent mcp -n todo                       # stdio, for a client's config file
  opsagent mcp -n todo --read-only           # only the tools that read
  opsagent mcp --tools diagnose,pod_logs     # only these tools
  opsagent mcp --http :8931 -n todo          # http://127.0.0.1:8931/mcp, callers' own tokens`,
		Args: exactArgs(0),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	f.StringVar(&o.HTTP, "http", "", "serve Streamable HTTP on this address (path /mcp; host defaults to 127.0.0.1) instead of stdio")
	f.BoolVar(&o.ReadOnly, "read-only", false, "serve only the tools that never change the cluster")
	f.StringSliceVar(&o.Tools, "tools", nil, "serve only these tools (comma-separated names)")
	o.approvalFlags.addFlags(f, approvalOffer{destructive: true, server: true})
	f.StringArrayVar(&o.ChartDirs, "chart-dir", nil, "folder helm_deploy may read Helm charts and values files from (repeatable; default: only the built-in chart)")
	return cmd
}

// Validate checks the flags before anything connects: an unknown tool name
// or a bad address is reported at start, not at the first call.
func (o *MCPOptions) Validate(_ []string) error {
	if o.HTTP != "" {
		if _, _, err := net.SplitHostPort(o.HTTP); err != nil {
			return fmt.Errorf("--http %q: want HOST:PORT or :PORT (%v)", o.HTTP, err)
		}
	}
	// The audit log is not known yet; it does not change which tools are served.
	return o.serverOptions("").Validate()
}

// Complete reads the configuration, checks the chart folders and builds
// the server options.
func (o *MCPOptions) Complete(_ []string) error {
	cfg, err := config.Load(o.getenv)
	if err != nil {
		return BadInput(err)
	}
	if o.AuditLog != "" {
		cfg.AuditLog = o.AuditLog
	}
	if err := checkChartDirs(o.ChartDirs); err != nil {
		return BadInput(err)
	}
	o.server = o.serverOptions(cfg.AuditLog)
	return nil
}

// serverOptions are the server's options from the flags.
func (o *MCPOptions) serverOptions(auditLog string) mcpserver.Options {
	chartDirs := o.ChartDirs
	return mcpserver.Options{
		NewTools: func(c *kube.Clients) []tools.Tool {
			return toolset.New(c, toolset.Options{Helm: releasetools.Options{ChartRoots: chartDirs}})
		},
		ReadOnly: o.ReadOnly, Tools: o.Tools,
		Yes: o.Yes, AllowDestructive: o.AllowDestructive, AllowPrivileged: o.AllowPrivileged,
		AuditLog: auditLog,
		Logger:   slog.Default(),
	}
}

// Run serves until the client goes away (stdio) or the command is
// interrupted (HTTP).
func (o *MCPOptions) Run(ctx context.Context) error {
	clients, err := kube.NewClients(o.global.ConfigFlags)
	if err != nil {
		return err
	}
	if o.HTTP == "" {
		srv, err := mcpserver.NewServer(clients, o.server)
		if err != nil {
			return err
		}
		// Logs go to stderr (the root command's handler); stdout is the
		// protocol.
		err = srv.Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(o.In), Writer: nopWriteCloser{o.Out}})
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("mcp over stdio: %w", err)
		}
		return nil
	}
	h, err := mcpserver.NewHandler(mcpserver.HTTPConfig{Base: clients.Config, Namespace: session.Namespace(clients), Mapper: clients.Mapper}, o.server)
	if err != nil {
		return err
	}
	return o.serveHTTP(ctx, h)
}

func (o *MCPOptions) serveHTTP(ctx context.Context, h http.Handler) error {
	host, port, _ := net.SplitHostPort(o.HTTP) // checked by Validate
	if host == "" {
		// Loopback unless asked otherwise: the tokens it accepts act on
		// the cluster.
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("--http %s: %w", o.HTTP, err)
	}
	mux := http.NewServeMux()
	mux.Handle(mcpserver.Path, h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	_, _ = fmt.Fprintf(o.ErrOut, "serving MCP on http://%s%s (Authorization: Bearer <your Kubernetes token>)\n", ln.Addr(), mcpserver.Path) // best effort: a log line
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve MCP over HTTP: %w", err)
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("stop MCP server: %w", err)
		}
		return nil
	}
}

// nopWriteCloser keeps the command's stdout open when the transport closes.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/server"
)

// ServeOptions are the flags of `opsagent serve`.
type ServeOptions struct {
	Addr            string
	ReadOnly        bool
	TLSCert         string
	TLSKey          string
	InCluster       bool
	NoLocalToken    bool
	PlannerOnly     bool
	ApprovalTimeout time.Duration
	AuditLog        string

	global *GlobalOptions
	genericiooptions.IOStreams

	// Resolved by Complete.
	cfg    config.Config
	base   *rest.Config
	local  *server.LocalAccess
	getenv func(string) string
}

// NewServeOptions returns the defaults.
func NewServeOptions(g *GlobalOptions, streams genericiooptions.IOStreams) *ServeOptions {
	return &ServeOptions{
		Addr: "127.0.0.1:8080", ApprovalTimeout: server.DefaultApprovalTimeout,
		global: g, IOStreams: streams, getenv: os.Getenv,
	}
}

// NewCmdServe is `opsagent serve`: the agent as an HTTP service.
func NewCmdServe(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewServeOptions(g, streams)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the agent over HTTP: a JSON API, live progress, approvals and a web page",
		Long: `Serve runs the agent as a service for a team: an HTTP JSON API with live progress
(Server-Sent Events), approvals over the API, diagnose and explain, a web page,
the same tools for MCP clients at /mcp (changes approved through MCP
elicitation), /healthz, /readyz, Prometheus /metrics and the API's OpenAPI
description at /openapi.yaml.

Every API call carries the caller's own Kubernetes bearer token
("Authorization: Bearer TOKEN") and every cluster call made for it uses that
token, so the cluster's authentication and RBAC decide what each caller may see
and do; the server's own credentials are used only for discovery. Each change
is previewed and waits for the caller's approval (--approval-timeout);
destructive and privileged changes also need the request's allowDestructive or
allowPrivileged, as on the CLI. Callers see only their own requests.

With a kubeconfig, serve prints a random access token at start: holders of it
act as the kubeconfig's user (open the printed URL; the page keeps the token in
the tab's sessionStorage; an MCP client sends it as its bearer token).
--in-cluster uses the pod's ServiceAccount for discovery only and prints no
token. docs/serve.md explains the identity model.`,
		Example: `  opsagent serve                      # http://127.0.0.1:8080, prints the access token
  opsagent serve --read-only --no-llm
  opsagent serve --addr 0.0.0.0:8443 --tls-cert tls.crt --tls-key tls.key
  opsagent serve --in-cluster --addr :8080   # in a pod (charts/opsagent)`,
		Args: exactArgs(0),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	f.StringVar(&o.Addr, "addr", o.Addr, "address to listen on (host:port)")
	f.BoolVar(&o.ReadOnly, "read-only", false, "offer only tools that never change the cluster")
	f.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate file (with --tls-key)")
	f.StringVar(&o.TLSKey, "tls-key", "", "TLS key file (with --tls-cert)")
	f.BoolVar(&o.InCluster, "in-cluster", false, "run in a pod: the API server from the pod's environment, no local access token")
	f.BoolVar(&o.NoLocalToken, "no-local-token", false, "print no access token: every caller brings a Kubernetes token")
	f.BoolVar(&o.PlannerOnly, "no-llm", false, "use the deterministic planner even if a model is configured")
	f.DurationVar(&o.ApprovalTimeout, "approval-timeout", o.ApprovalTimeout, "how long a pending change waits for approval")
	addAuditLogFlag(f, &o.AuditLog)
	return cmd
}

// Validate checks the flags (pure checks).
func (o *ServeOptions) Validate(_ []string) error {
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return fmt.Errorf("--addr %q: want host:port, e.g. 127.0.0.1:8080: %w", o.Addr, err)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if o.ApprovalTimeout < 10*time.Second || o.ApprovalTimeout > 24*time.Hour {
		return fmt.Errorf("--approval-timeout must be between 10s and 24h, got %s", o.ApprovalTimeout)
	}
	return nil
}

// Complete resolves the configuration, the API server and, with a
// kubeconfig, the local access.
func (o *ServeOptions) Complete(_ []string) error {
	cfg, err := config.Load(o.getenv)
	if err != nil {
		return BadInput(err)
	}
	if o.AuditLog != "" {
		cfg.AuditLog = o.AuditLog
	}
	o.cfg = cfg
	if o.InCluster {
		if o.base, err = rest.InClusterConfig(); err != nil {
			return &ExitError{Code: ExitFailed, Err: fmt.Errorf("--in-cluster: %w", err)}
		}
		return nil
	}
	flags := o.global.ConfigFlags
	if o.base, err = flags.ToRESTConfig(); err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("load kubeconfig: %w (set --kubeconfig or KUBECONFIG, or start a local cluster with 'opsagent sandbox up')", err)}
	}
	if !o.NoLocalToken {
		token, err := accessToken()
		if err != nil {
			return &ExitError{Code: ExitFailed, Err: err}
		}
		o.local = &server.LocalAccess{Token: token, Clients: localClients(flags)}
	}
	return nil
}

// accessToken is a random 256-bit token, URL-safe so it travels in the
// page's URL fragment.
func accessToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make an access token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// localClients builds the kubeconfig's clients for one namespace, sharing
// one REST mapper between requests (discovery is the same for all).
func localClients(flags *genericclioptions.ConfigFlags) func(string) (*kube.Clients, error) {
	mapper := sync.OnceValues(flags.ToRESTMapper)
	return func(namespace string) (*kube.Clients, error) {
		f := genericclioptions.NewConfigFlags(true)
		f.KubeConfig, f.Context, f.ClusterName, f.AuthInfoName = flags.KubeConfig, flags.Context, flags.ClusterName, flags.AuthInfoName
		if namespace != "" {
			f.Namespace = &namespace
		} else {
			f.Namespace = flags.Namespace
		}
		m, err := mapper()
		if err != nil {
			return nil, fmt.Errorf("build REST mapper: %w", err)
		}
		c, err := kube.NewClients(sharedMapper{f, m})
		if err != nil {
			return nil, err
		}
		if flags.Context != nil && *flags.Context != "" {
			c.Context = *flags.Context
		}
		return c, nil
	}
}

// sharedMapper is a ConfigFlags whose REST mapper is built once.
type sharedMapper struct {
	*genericclioptions.ConfigFlags
	mapper meta.RESTMapper
}

func (g sharedMapper) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }

// Run serves until ctx ends (the first interrupt), then shuts down
// gracefully.
func (o *ServeOptions) Run(ctx context.Context) error {
	srv, err := server.New(ctx, server.Config{
		Base: o.base, Local: o.local, ReadOnly: o.ReadOnly, PlannerOnly: o.PlannerOnly,
		LLM: o.cfg, ApprovalTimeout: o.ApprovalTimeout, Logger: slog.Default(),
	})
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	l, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("listen on %s: %w", o.Addr, err)}
	}
	scheme := "http"
	if o.TLSCert != "" {
		scheme = "https"
	}
	url := scheme + "://" + l.Addr().String() + "/"
	if host, _, _ := net.SplitHostPort(l.Addr().String()); scheme == "http" && !net.ParseIP(host).IsLoopback() {
		slog.Warn("serving without TLS on a non-loopback address: tokens cross the network in the clear; use --tls-cert/--tls-key or a TLS-terminating Ingress", "addr", l.Addr().String())
	}
	_, _ = fmt.Fprintf(o.Out, "opsagent serve: listening on %s (read-only: %t)\n", url, o.ReadOnly) // best effort
	if o.local != nil {
		_, _ = fmt.Fprintf(o.Out, "Open %s#token=%s\nor send \"Authorization: Bearer %s\" to act as %s. Keep this token private.\n",
			url, o.local.Token, o.local.Token, srv.LocalUser())
	}
	if err := srv.Serve(ctx, l, o.TLSCert, o.TLSKey); err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	return nil
}

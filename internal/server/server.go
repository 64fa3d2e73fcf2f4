// Package server is `opsagent serve`: the agent as an HTTP service for a
// team. Every request acts with the caller's own Kubernetes bearer token, so
// the cluster's authentication and RBAC decide what each caller may see and
// do; the server's own credentials are used only for discovery and its
// readiness check. Requests run through internal/session exactly as on the
// CLI (the one gate, the one approval policy, the one audit log), with a
// person approving each change over the API or the embedded web page.
//
// docs/serve.md describes the identity model and the API; openapi.yaml is
// the API's reference, served at /openapi.yaml.
package server

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/identity"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/mcpserver"
)

// Defaults for Config fields left zero.
const (
	DefaultApprovalTimeout = 5 * time.Minute
	// DefaultMaxConcurrent bounds one caller's simultaneous API calls
	// (event streams excepted) and DefaultMaxActive its running requests:
	// one person, or one bot, cannot starve the others.
	DefaultMaxConcurrent = 16
	DefaultMaxActive     = 8
	// DefaultMaxKept is how many requests of one caller are kept for
	// reading; the oldest finished ones are dropped first.
	DefaultMaxKept = 100
	// DefaultRetention is how long a finished request stays readable.
	DefaultRetention = time.Hour
	// DefaultShutdownGrace is how long shutdown waits for running actions
	// before it cancels them (they then stop their waits and record how
	// they ended).
	DefaultShutdownGrace = 30 * time.Second
)

// Size and time limits of the HTTP server: a request is a sentence, an
// approval a word; nothing legitimate comes near them.
const (
	maxBodyBytes      = 64 << 10
	maxHeaderBytes    = 32 << 10
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 120 * time.Second
	// sseKeepAlive keeps event streams open through proxies that close
	// idle connections.
	sseKeepAlive = 15 * time.Second
)

// Config is what a Server is built from.
type Config struct {
	// Base is the API server to act on. Only its address and CA are used
	// for callers (kube.ForBearerToken drops every credential); its own
	// credentials serve discovery (readable by every authenticated user)
	// and the readiness check.
	Base *rest.Config
	// Local, if set, lets holders of its token act as the kubeconfig's
	// user (local use, as Jupyter does); nil in a cluster.
	Local *LocalAccess
	// ReadOnly offers only the tools that never change the cluster.
	ReadOnly bool
	// PlannerOnly forces the deterministic planner even with a model key.
	PlannerOnly bool
	// LLM is the model configuration (config.Load); its AuditLog is where
	// every action is recorded with the caller's identity.
	LLM config.Config
	// ApprovalTimeout is how long a pending approval waits for a decision.
	ApprovalTimeout time.Duration
	MaxConcurrent   int
	MaxActive       int
	MaxKept         int
	Retention       time.Duration
	ShutdownGrace   time.Duration
	// ToolTimeout, if set, bounds every tool's wait (the CLI's --timeout).
	ToolTimeout time.Duration
	Logger      *slog.Logger
}

// LocalAccess is the kubeconfig's user, lent to holders of Token: they
// act as that user on the API and on /mcp alike.
type LocalAccess = identity.Local

func (c *Config) withDefaults() {
	if c.ApprovalTimeout <= 0 {
		c.ApprovalTimeout = DefaultApprovalTimeout
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.MaxActive <= 0 {
		c.MaxActive = DefaultMaxActive
	}
	if c.MaxKept <= 0 {
		c.MaxKept = DefaultMaxKept
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

//go:embed web openapi.yaml
var assets embed.FS

// Server serves the API, the page and the operational endpoints.
type Server struct {
	cfg    Config
	log    *slog.Logger
	mapper meta.RESTMapper
	auth   *identity.Authenticator
	// anon is an anonymous client for the readiness check.
	anon kubernetes.Interface
	// mcp is the MCP endpoint (internal/mcpserver), acting as each caller.
	mcp     http.Handler
	store   *store
	metrics *metrics
	limits  *callerLimits
	handler http.Handler

	// runCtx is the parent of every request's run; cancelled last on
	// shutdown, after the grace period.
	runCtx    context.Context
	cancelRun context.CancelCauseFunc
	runs      sync.WaitGroup

	mu       sync.Mutex
	draining bool
	// closing is closed when shutdown starts: event streams end and
	// pending approvals are refused.
	closing chan struct{}
}

// errShuttingDown is the cause of everything shutdown cancels.
var errShuttingDown = errors.New("the server is shutting down")

// New builds a Server. It reads nothing from the cluster until the first
// request, except for the local user's name when Local is set.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Base == nil {
		return nil, errors.New("server: a base REST config is required")
	}
	cfg.withDefaults()
	mapper, err := kube.NewMapper(cfg.Base)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		mapper:  mapper,
		metrics: newMetrics(),
		limits:  newCallerLimits(cfg.MaxConcurrent),
		closing: make(chan struct{}),
	}
	s.store = newStore(cfg.MaxKept, cfg.Retention)
	s.runCtx, s.cancelRun = context.WithCancelCause(context.Background())
	if s.anon, err = kubernetes.NewForConfig(rest.AnonymousClientConfig(cfg.Base)); err != nil {
		return nil, fmt.Errorf("build client for the readiness check: %w", err)
	}
	if s.auth, err = identity.New(ctx, cfg.Base, cfg.Local, mapper); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if s.mcp, err = s.newMCPHandler(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// Handler is the server's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	web, err := fs.Sub(assets, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	// Operational endpoints: no identity, nothing about any caller.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /openapi.yaml", serveAsset(assets, "openapi.yaml", "application/yaml"))
	// The page and its assets: public files, no data in them.
	mux.HandleFunc("GET /{$}", serveAsset(web, "index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /app.js", serveAsset(web, "app.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /app.css", serveAsset(web, "app.css", "text/css; charset=utf-8"))

	// The API: every route knows its caller.
	mux.Handle("GET /api/v1/whoami", s.api(s.whoami))
	mux.Handle("POST /api/v1/requests", s.api(s.submit))
	mux.Handle("GET /api/v1/requests", s.api(s.list))
	mux.Handle("GET /api/v1/requests/{id}", s.api(s.get))
	mux.Handle("POST /api/v1/requests/{id}/cancel", s.api(s.cancel))
	mux.Handle("POST /api/v1/requests/{id}/approvals/{approval}", s.api(s.decide))
	mux.Handle("GET /api/v1/diagnose", s.api(s.diagnose))
	mux.Handle("GET /api/v1/explain", s.api(s.explain))
	// Streams are long-lived: they do not count against the caller's
	// concurrency limit, and are bounded by the number of requests kept.
	mux.Handle("GET /api/v1/requests/{id}/events", s.stream(s.events))

	// The MCP endpoint: the same tools, gate and audit log for MCP clients,
	// each call acting as its bearer token's holder (mcp.go).
	mux.Handle(mcpserver.Path, s.mcp)

	return s.protect(mux)
}

// Serve serves on l until ctx ends, then shuts down gracefully: new
// requests are refused, pending approvals are refused (so nothing is
// approved by nobody), running actions get ShutdownGrace to finish and are
// then cancelled; every action's outcome is in the audit log either way.
// certFile and keyFile, if set, serve TLS.
func (s *Server) Serve(ctx context.Context, l net.Listener, certFile, keyFile string) error {
	srv := s.HTTPServer()
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- srv.ServeTLS(l, certFile, keyFile)
		} else {
			errc <- srv.Serve(l)
		}
	}()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: refusing new requests, finishing running actions", "grace", s.cfg.ShutdownGrace)
	shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace+5*time.Second)
	defer cancel()
	// Closing first ends the event streams, so Shutdown only waits for
	// calls that end by themselves; both run while requests drain.
	s.beginDrain()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(shutCtx) }()
	err := s.Drain(shutCtx)
	err = errors.Join(err, <-shut)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// HTTPServer is an http.Server for the handler with the server's limits.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// No WriteTimeout: event streams and actions waiting for a rollout
	// legitimately write for minutes.
}

// Drain stops taking requests, refuses pending approvals, waits up to
// ShutdownGrace for running requests, then cancels them and waits for them
// to record how they ended.
func (s *Server) Drain(ctx context.Context) error {
	s.beginDrain()
	done := make(chan struct{})
	go func() { s.runs.Wait(); close(done) }()
	grace := time.NewTimer(s.cfg.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
		return nil
	case <-grace.C:
	case <-ctx.Done():
	}
	s.log.Warn("cancelling requests still running after the grace period")
	s.cancelRun(errShuttingDown)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("requests still running at shutdown: %w", ctx.Err())
	}
}

// Close cancels everything at once (tests, and a listener that failed).
func (s *Server) Close() {
	s.beginDrain()
	s.cancelRun(errShuttingDown)
	s.runs.Wait()
}

// beginDrain refuses new requests and pending approvals and ends the event
// streams.
func (s *Server) beginDrain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.draining {
		s.draining = true
		close(s.closing)
	}
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is ready while the server takes requests and the API server
// answers. Any HTTP answer counts: an API server that refuses anonymous
// /version still proves it is reachable.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.isDraining() {
		writeError(w, http.StatusServiceUnavailable, errShuttingDown.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.ping(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "the Kubernetes API server is not reachable: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func serveAsset(fsys fs.FS, name, contentType string) http.HandlerFunc {
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body) // the client went away
	}
}

// LocalUser is the Kubernetes user holders of the local token act as.
func (s *Server) LocalUser() string { return s.auth.LocalUser() }

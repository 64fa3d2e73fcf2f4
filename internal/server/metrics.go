package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/tools"
)

// metrics are the server's Prometheus metrics, in a registry of its own
// (no package-level state: two servers in one test binary do not collide).
// Labels are bounded sets (routes, tool names, outcomes), never a caller
// or an object name.
type metrics struct {
	reg          *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpLatency  *prometheus.HistogramVec
	requests     *prometheus.CounterVec
	requestTime  *prometheus.HistogramVec
	running      prometheus.Gauge
	actions      *prometheus.CounterVec
	approvals    *prometheus.CounterVec
	pending      prometheus.Gauge
	llmCalls     prometheus.Counter
	llmTokens    *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "opsagent_http_request_duration_seconds", Help: "HTTP request latency by route (event streams last as long as their request).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"route"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_agent_requests_total", Help: "Agent requests by how they ended (succeeded, failed, cancelled) and mode (llm, fallback).",
		}, []string{"state", "mode"}),
		requestTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "opsagent_agent_request_duration_seconds", Help: "Agent request duration, approvals included, by mode.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}, []string{"mode"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "opsagent_agent_requests_running", Help: "Agent requests running now.",
		}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_actions_total", Help: "Tool calls by tool, effective risk and outcome (ok, no_change, dry_run, error, not_approved).",
		}, []string{"tool", "risk", "outcome"}),
		approvals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_approvals_total", Help: "Approvals asked, by how they were decided (approved, denied, expired, cancelled, stale).",
		}, []string{"outcome"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "opsagent_approvals_pending", Help: "Approvals waiting for a decision now.",
		}),
		llmCalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsagent_llm_calls_total", Help: "Model calls made for agent requests.",
		}),
		llmTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_llm_tokens_total", Help: "Model tokens used, by kind (prompt, completion).",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(m.httpRequests, m.httpLatency, m.requests, m.requestTime, m.running,
		m.actions, m.approvals, m.pending, m.llmCalls, m.llmTokens,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) observeHTTP(pattern, method string, code int, d time.Duration) {
	route := pattern
	if route == "" {
		route = "unmatched" // 404s: never the raw path, whose values are unbounded
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.httpLatency.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) observeAction(rec *tools.Record) {
	outcome := "ok"
	switch {
	case rec.NoChange:
		outcome = "no_change"
	case rec.DryRun:
		outcome = "dry_run"
	case rec.Err() != nil && rec.Risk.Mutates() && !rec.Approved:
		outcome = "not_approved"
	case rec.Err() != nil:
		outcome = "error"
	}
	tool := rec.Tool
	if errors.Is(rec.Err(), tools.ErrUnknownTool) {
		tool = "unknown" // a model's invented name must not become a label
	}
	m.actions.WithLabelValues(tool, rec.Risk.String(), outcome).Inc()
}

func (m *metrics) observeRun(run *agent.Run, state string, d time.Duration) {
	mode := string(run.Mode)
	if mode == "" {
		mode = "none"
	}
	m.requests.WithLabelValues(state, mode).Inc()
	m.requestTime.WithLabelValues(mode).Observe(d.Seconds())
	if u := run.Usage; u != nil {
		m.llmCalls.Add(float64(u.LLMCalls))
		m.llmTokens.WithLabelValues("prompt").Add(float64(u.PromptTokens))
		m.llmTokens.WithLabelValues("completion").Add(float64(u.CompletionTokens))
	}
}

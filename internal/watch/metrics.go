package watch

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/diagnose"
)

// Metrics are what a watcher exports on --metrics-addr. The names are
// documented in docs/watch.md.
type Metrics struct {
	OpenFindings     *prometheus.GaugeVec
	Findings         *prometheus.CounterVec
	Analyses         prometheus.Counter
	AnalysisErrors   prometheus.Counter
	AnalysisDuration prometheus.Histogram
	LastAnalysis     prometheus.Gauge
	CachedObjects    *prometheus.GaugeVec
	Synced           prometheus.Gauge
	APIRequests      *prometheus.CounterVec
	Samplings        prometheus.Counter
	Samples          prometheus.Counter
	SampleErrors     prometheus.Counter

	// mu guards the label sets of OpenFindings last set, so that a rule
	// whose findings are all resolved drops to zero rather than staying.
	mu       sync.Mutex
	openSeen map[[2]string]bool
	synced   atomic.Bool
}

// IsSynced reports whether the caches hold their first lists (/readyz).
func (m *Metrics) IsSynced() bool { return m.synced.Load() }

func (m *Metrics) markSynced() {
	m.synced.Store(true)
	m.Synced.Set(1)
}

// NewMetrics creates the metrics and registers them on reg (nil: not
// registered, for tests and benchmarks that read them directly).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		OpenFindings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opsagent_watch_open_findings", Help: "Findings open now, by severity and rule.",
		}, []string{"severity", "rule"}),
		Findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_watch_findings_total", Help: "Findings that opened (state=new) or were resolved (state=resolved).",
		}, []string{"state"}),
		Analyses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsagent_watch_analyses_total", Help: "Diagnoses of the cached objects.",
		}),
		AnalysisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsagent_watch_analysis_errors_total", Help: "Diagnoses that failed.",
		}),
		AnalysisDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "opsagent_watch_analysis_duration_seconds", Help: "Wall time of one diagnosis of the cached objects.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		LastAnalysis: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "opsagent_watch_last_analysis_timestamp_seconds", Help: "When the last diagnosis finished (Unix time).",
		}),
		CachedObjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opsagent_watch_cached_objects", Help: "Objects held in the informer caches, by resource.",
		}, []string{"resource"}),
		Synced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "opsagent_watch_synced", Help: "1 once every cache holds its first list.",
		}),
		APIRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_watch_api_requests_total", Help: "Requests to the Kubernetes API server, by verb (list, watch, get, create).",
		}, []string{"verb"}),
		Samplings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsagent_watch_usage_samplings_total", Help: "Reads of pod metrics for the usage history (one LIST of metrics.k8s.io each).",
		}),
		Samples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsagent_watch_usage_samples_total", Help: "Usage samples recorded into the local history.",
		}),
		SampleErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsagent_watch_usage_sample_errors_total", Help: "Usage samplings that failed (metrics API unreachable, history not writable).",
		}),
		openSeen: map[[2]string]bool{},
	}
	if reg != nil {
		reg.MustRegister(m.OpenFindings, m.Findings, m.Analyses, m.AnalysisErrors, m.AnalysisDuration, m.LastAnalysis,
			m.CachedObjects, m.Synced, m.APIRequests, m.Samplings, m.Samples, m.SampleErrors)
	}
	return m
}

// setOpen sets the open-findings gauges from one diagnosis.
func (m *Metrics) setOpen(groups []diagnose.Group) {
	counts := map[[2]string]int{}
	for _, g := range groups {
		for _, f := range g.Findings {
			counts[[2]string{string(f.Severity), f.Rule}]++
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.openSeen {
		if _, ok := counts[k]; !ok {
			m.OpenFindings.WithLabelValues(k[0], k[1]).Set(0)
		}
	}
	for k, n := range counts {
		m.OpenFindings.WithLabelValues(k[0], k[1]).Set(float64(n))
		m.openSeen[k] = true
	}
}

// Instrument returns a copy of cfg whose requests are counted in
// APIRequests: what shows that a synced watcher makes no LISTs.
func (m *Metrics) Instrument(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			m.APIRequests.WithLabelValues(verbOf(r)).Inc()
			return rt.RoundTrip(r)
		})
	})
	return cfg
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// verbOf names a request's Kubernetes verb from its method and path:
// a GET of a collection is a list (or a watch with ?watch=true), of a named
// object a get.
func verbOf(r *http.Request) string {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		return "create"
	default:
		return strings.ToLower(r.Method)
	}
	if r.URL.Query().Get("watch") == "true" {
		return "watch"
	}
	// /api/v1/... or /apis/group/version/...
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return "get" // discovery, /version, /healthz
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:] // namespaces/NS/resource[/name]
	}
	if len(parts) == 1 {
		return "list"
	}
	return "get"
}

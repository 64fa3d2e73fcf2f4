package usage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Prometheus as a usage source: the best one when a cluster has it, since it
// has scraped every container for weeks. recommend reads the standard
// cAdvisor series (also what the kubelet's /metrics/resource serves, with the
// same names and labels):
//
//	container_cpu_usage_seconds_total   counter, core-seconds
//	container_memory_working_set_bytes  gauge, bytes
//
// labelled namespace, pod and container. Fetch asks Prometheus for the
// figures a recommendation needs, already summarised per pod and container
// (quantile_over_time over the window), so the answer is one number per
// figure per container, whatever the window; Recommend then pools a
// workload's pods without further I/O.
//
// This speaks the small part of the HTTP API it needs (/api/v1/query, an
// instant vector answer) with net/http and encoding/json rather than
// client_golang's api/prometheus/v1: the answer's shape is four fields, and
// owning the request keeps the errors ours (which URL, what to do).

// Series names and how far back a CPU rate looks for its two samples.
const (
	promCPUSeries    = "container_cpu_usage_seconds_total"
	promMemorySeries = "container_memory_working_set_bytes"
	// DefaultPromRateRange bounds how far back irate looks for the last two
	// scrapes of the CPU counter: five times the common 1-minute interval.
	DefaultPromRateRange = 5 * time.Minute
	// promMaxPoints bounds the points a CPU subquery evaluates per series:
	// the step is the window over this (a 7d window steps by 5m).
	promMaxPoints = 2016
)

// PromClient queries one Prometheus server.
type PromClient struct {
	base *url.URL
	http *http.Client
}

// NewPromClient checks a Prometheus base URL (http://prometheus:9090, or a
// path prefix behind a proxy). Basic-auth credentials in the URL are sent
// and never printed. hc nil is http.DefaultClient.
func NewPromClient(rawURL string, hc *http.Client) (*PromClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the Prometheus URL %q is not an http(s) URL: write e.g. http://prometheus.monitoring:9090", redactURL(rawURL))
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &PromClient{base: u, http: hc}, nil
}

// URL is the server's URL without credentials, to show.
func (c *PromClient) URL() string { return c.base.Redacted() }

// PromQuery is what Fetch reads.
type PromQuery struct {
	// Namespace "" reads every namespace.
	Namespace string
	// Window is how far back from At (zero: now).
	Window time.Duration
	At     time.Time
	// Step is the resolution of the CPU rate subquery (0: PromStep(Window));
	// RateRange how far back each rate looks for two scrapes (0:
	// DefaultPromRateRange).
	Step      time.Duration
	RateRange time.Duration
}

// PromStep is the default subquery step of a window: at most
// promMaxPoints points, at least a second apart.
func PromStep(window time.Duration) time.Duration {
	return max((window / promMaxPoints).Round(time.Second), time.Second)
}

// PodContainer names one container of one pod.
type PodContainer struct {
	Namespace string
	Pod       string
	Container string
}

// PromSeries is one container of one pod over the window.
type PromSeries struct {
	// Samples counts the scrapes of its memory series; From and To are the
	// first and last of them.
	Samples  int
	From, To time.Time
	// CPU are percentiles and the peak of its rate, in millicores;
	// Memory of its working set, in bytes.
	CPU, Memory Stats
}

// PromUsage is what Prometheus reported, per pod container: the input
// Recommend reads through Options.Prometheus.
type PromUsage struct {
	// URL is the server's, without credentials.
	URL          string
	Window, Step time.Duration
	At           time.Time
	Containers   map[PodContainer]PromSeries
	// Warnings are Prometheus's own (a partial answer, say).
	Warnings []string
}

// promFigure is one query and where its value goes.
type promFigure struct {
	name string
	expr string
	set  func(s *PromSeries, v float64)
	// cpu and mem mark the figures a container needs to be sized: a
	// container with memory but no CPU rate yet (one scrape) is left out
	// rather than sized as idle.
	cpu, mem bool
}

// figures are the queries of one fetch. Every answer is aggregated by
// namespace, pod and container with max: a server that scrapes both the
// kubelet's cAdvisor and resource endpoints has two series per container,
// and a restarted container a new one.
func (q PromQuery) figures() []promFigure {
	sel := `{container!="",container!="POD"}`
	if q.Namespace != "" {
		sel = fmt.Sprintf(`{namespace=%s,container!="",container!="POD"}`, strconv.Quote(q.Namespace))
	}
	by := func(agg, expr string) string { return agg + " by (namespace, pod, container) (" + expr + ")" }
	window, step, rateRange := promDuration(q.Window), promDuration(q.Step), promDuration(q.RateRange)
	// CPU is irate, the rate between the last two scrapes, at every step:
	// percentiles of usage between scrapes, not of 5-minute averages that
	// flatten the peaks a request must hold. And rate() divides by its whole
	// range, so it reads a pod younger than the range far too low; irate
	// reads it right from its second scrape.
	rate := fmt.Sprintf("irate(%s%s[%s])[%s:%s]", promCPUSeries, sel, rateRange, window, step)
	mem := fmt.Sprintf("%s%s[%s]", promMemorySeries, sel, window)
	milli := func(set func(*Stats, int64)) func(*PromSeries, float64) {
		return func(s *PromSeries, v float64) { set(&s.CPU, int64(math.Ceil(v*1000))) }
	}
	bytes := func(set func(*Stats, int64)) func(*PromSeries, float64) {
		return func(s *PromSeries, v float64) { set(&s.Memory, int64(math.Ceil(v))) }
	}
	quantiles := []struct {
		name, q string
		set     func(*Stats, int64)
	}{
		{"p50", "0.5", func(s *Stats, v int64) { s.P50 = v }},
		{"p90", "0.9", func(s *Stats, v int64) { s.P90 = v }},
		{"p95", "0.95", func(s *Stats, v int64) { s.P95 = v }},
		{"p99", "0.99", func(s *Stats, v int64) { s.P99 = v }},
	}
	var out []promFigure
	for _, p := range quantiles {
		out = append(out,
			promFigure{name: "CPU " + p.name, expr: by("max", "quantile_over_time("+p.q+", "+rate+")"), set: milli(p.set)},
			promFigure{name: "memory " + p.name, expr: by("max", "quantile_over_time("+p.q+", "+mem+")"), set: bytes(p.set)})
	}
	tsSel := fmt.Sprintf("timestamp(%s%s)[%s:%s]", promMemorySeries, sel, window, step)
	return append(out,
		promFigure{name: "CPU peak", expr: by("max", "max_over_time("+rate+")"), set: milli(func(s *Stats, v int64) { s.Max = v }), cpu: true},
		promFigure{name: "memory peak", expr: by("max", "max_over_time("+mem+")"), set: bytes(func(s *Stats, v int64) { s.Max = v }), mem: true},
		promFigure{name: "samples", expr: by("max", "count_over_time("+mem+")"), set: func(s *PromSeries, v float64) { s.Samples = int(v) }},
		promFigure{name: "first sample", expr: by("min", "min_over_time("+tsSel+")"), set: func(s *PromSeries, v float64) { s.From = unixTime(v) }},
		promFigure{name: "last sample", expr: by("max", "max_over_time("+tsSel+")"), set: func(s *PromSeries, v float64) { s.To = unixTime(v) }},
	)
}

// promDuration writes a duration as PromQL reads it, in whole seconds.
func promDuration(d time.Duration) string {
	return strconv.FormatInt(int64(max(d.Round(time.Second), time.Second)/time.Second), 10) + "s"
}

func unixTime(v float64) time.Time {
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// Fetch asks Prometheus for the usage of every container in the query's
// namespace over the window: the figures run in parallel, at one
// evaluation time. It fails when any query fails; an empty answer (nothing
// scraped there) is not an error.
func (c *PromClient) Fetch(ctx context.Context, q PromQuery) (*PromUsage, error) {
	if q.Window <= 0 {
		return nil, errors.New("the Prometheus window must be positive")
	}
	if q.At.IsZero() {
		q.At = time.Now()
	}
	if q.Step <= 0 {
		q.Step = PromStep(q.Window)
	}
	if q.RateRange <= 0 {
		q.RateRange = DefaultPromRateRange
	}
	figs := q.figures()
	answers := make([]promAnswer, len(figs))
	errs := make([]error, len(figs))
	var wg sync.WaitGroup
	for i, f := range figs {
		wg.Go(func() { answers[i], errs[i] = c.query(ctx, f.name, f.expr, q.At) })
	}
	wg.Wait()
	// The first failure says it: the others are most likely the same one.
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	type found struct {
		series   PromSeries
		cpu, mem bool
	}
	all := map[PodContainer]*found{}
	var warnings []string
	for i, f := range figs {
		warnings = append(warnings, answers[i].warnings...)
		for _, v := range answers[i].values {
			if math.IsNaN(v.value) || math.IsInf(v.value, 0) {
				continue
			}
			e := all[v.key]
			if e == nil {
				e = &found{}
				all[v.key] = e
			}
			f.set(&e.series, v.value)
			e.cpu, e.mem = e.cpu || f.cpu, e.mem || f.mem
		}
	}
	out := &PromUsage{URL: c.URL(), Window: q.Window, Step: q.Step, At: q.At.UTC(),
		Containers: make(map[PodContainer]PromSeries, len(all)), Warnings: dedupe(warnings)}
	from := q.At.Add(-q.Window)
	for k, e := range all {
		if !e.cpu || !e.mem || e.series.Samples == 0 {
			continue
		}
		// A subquery step looks back up to Prometheus's lookback delta,
		// so the first timestamp may precede the window.
		if e.series.From.Before(from) {
			e.series.From = from.UTC()
		}
		out.Containers[k] = e.series
	}
	return out, nil
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range s {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// promAnswer is an instant vector, reduced to what Fetch reads.
type promAnswer struct {
	values   []promValue
	warnings []string
}

type promValue struct {
	key   PodContainer
	value float64
}

// promResponse is the HTTP API's envelope
// (https://prometheus.io/docs/prometheus/latest/querying/api/).
type promResponse struct {
	Status    string   `json:"status"`
	ErrorType string   `json:"errorType"`
	Error     string   `json:"error"`
	Warnings  []string `json:"warnings"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			// Value is [unix seconds, "value as a string"].
			Value [2]json.RawMessage `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

// query runs one instant query.
func (c *PromClient) query(ctx context.Context, name, expr string, at time.Time) (promAnswer, error) {
	endpoint := c.base.JoinPath("api", "v1", "query")
	form := url.Values{"query": {expr}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return promAnswer{}, fmt.Errorf("query Prometheus at %s: %w", c.URL(), err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its message repeats the URL, credentials included
		}
		return promAnswer{}, fmt.Errorf("cannot reach Prometheus at %s: %w; check the URL and that the server is up", c.URL(), err)
	}
	defer func() { _ = resp.Body.Close() }() // a read-only body: closing it reports nothing useful

	var body promResponse
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" || json.NewDecoder(resp.Body).Decode(&body) != nil || body.Status == "" {
		return promAnswer{}, fmt.Errorf("%s did not answer as the Prometheus HTTP API (HTTP %d, content type %q): give the server's base URL, e.g. http://prometheus.monitoring:9090, without /api/v1 or /graph",
			endpoint.Redacted(), resp.StatusCode, mt)
	}
	if body.Status != "success" {
		return promAnswer{}, fmt.Errorf("the Prometheus at %s refused the %s query (HTTP %d, %s): %s", c.URL(), name, resp.StatusCode, body.ErrorType, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return promAnswer{}, fmt.Errorf("the Prometheus at %s answered the %s query with a %s, not a vector: is it a Prometheus-compatible server?", c.URL(), name, body.Data.ResultType)
	}
	out := promAnswer{warnings: body.Warnings, values: make([]promValue, 0, len(body.Data.Result))}
	for _, r := range body.Data.Result {
		var s string
		if err := json.Unmarshal(r.Value[1], &s); err != nil {
			return promAnswer{}, fmt.Errorf("the Prometheus at %s: %s query: a value is not a string sample: %s", c.URL(), name, r.Value[1])
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return promAnswer{}, fmt.Errorf("the Prometheus at %s: %s query: value %q is not a number", c.URL(), name, s)
		}
		out.values = append(out.values, promValue{key: PodContainer{Namespace: r.Metric["namespace"], Pod: r.Metric["pod"], Container: r.Metric["container"]}, value: v})
	}
	return out, nil
}

// redactURL hides the password of a URL that may not even parse.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		return "…" + raw[at:]
	}
	return raw
}

package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/version"
)

// request is what a test receiver got.
type request struct {
	at     time.Time
	header http.Header
	body   []byte
}

// testReceiver is a real HTTP server that records every request and
// answers with answer(attempt, w, r), attempt counting from 1.
type testReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	arrived  chan struct{}
}

func newTestReceiver(t *testing.T, answer func(attempt int, w http.ResponseWriter, r *http.Request)) *testReceiver {
	t.Helper()
	tr := &testReceiver{arrived: make(chan struct{}, 100_000)}
	tr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tr.mu.Lock()
		tr.requests = append(tr.requests, request{at: time.Now(), header: r.Header.Clone(), body: body})
		attempt := len(tr.requests)
		tr.mu.Unlock()
		tr.arrived <- struct{}{}
		if answer != nil {
			answer(attempt, w, r)
		}
	}))
	t.Cleanup(tr.Close)
	return tr
}

func (tr *testReceiver) got() []request {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]request(nil), tr.requests...)
}

// waitFor waits until n requests arrived.
func (tr *testReceiver) waitFor(t *testing.T, n int, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for range n {
		select {
		case <-tr.arrived:
		case <-timeout:
			t.Fatalf("receiver got %d requests within %s, want %d", len(tr.got()), within, n)
		}
	}
}

// deadURL is the URL of a receiver that is down: it takes each connection
// and closes it at once, before any answer. (A closed httptest server would
// do too, but its port may be reused by another test's server.)
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return // the listener was closed
			}
			_ = c.Close()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
	})
	return "http://" + l.Addr().String() + "/hook"
}

// answerCodes answers the attempts with codes in turn, then 200.
func answerCodes(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(attempt int, w http.ResponseWriter, _ *http.Request) {
		if attempt <= len(codes) {
			w.WriteHeader(codes[attempt-1])
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// fast is a receiver config with test-sized timings.
func fast(name, url string, format Format) ReceiverConfig {
	return ReceiverConfig{
		Name: name, URL: url, Format: format,
		Timeout: 5 * time.Second, MaxAttempts: 4,
		InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, QueueSize: 16,
	}
}

func newTestDispatcher(t *testing.T, reg prometheus.Registerer, cfgs ...ReceiverConfig) *Dispatcher {
	t.Helper()
	d, err := NewDispatcher(cfgs, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.Close(ctx)
	})
	return d
}

// closeWithin closes d and fails the test if that takes longer than within.
func closeWithin(t *testing.T, d *Dispatcher, within time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	start := time.Now()
	err := d.Close(ctx)
	if took := time.Since(start); took > within+time.Second {
		t.Errorf("Close took %s, its context allowed %s", took, within)
	}
	return err
}

// deliveryStats are one receiver's counters.
type deliveryStats struct{ sent, failed, dropped, attempts, queued float64 }

func stats(d *Dispatcher, i int) deliveryStats {
	m := d.receivers[i].m
	return deliveryStats{
		sent:     testutil.ToFloat64(m.sentFiring) + testutil.ToFloat64(m.sentResolved),
		failed:   testutil.ToFloat64(m.failed),
		dropped:  testutil.ToFloat64(m.dropped),
		attempts: testutil.ToFloat64(m.attempts),
		queued:   testutil.ToFloat64(m.queue),
	}
}

// numbered is crashingBackend with a group name per i, to tell them apart.
func numbered(i int) Notification {
	n := crashingBackend(1)
	n.Group.Name = fmt.Sprintf("backend-%d", i)
	n.Fingerprint = Fingerprint(n.Context, n.Group)
	return n
}

func TestDispatcherDeliversJSON(t *testing.T) {
	t.Parallel()
	recv := newTestReceiver(t, nil)
	cfg := fast("webhook-1", recv.URL, FormatJSON)
	cfg.Header = http.Header{"Authorization": {"Bearer s3cret"}, "Content-Type": {"text/plain"}}
	d := newTestDispatcher(t, nil, cfg)

	firing := crashingBackend(2)
	resolved := firing
	resolved.Status, resolved.EndsAt = Resolved, t0.Add(time.Hour)
	d.Send(firing)
	d.Send(resolved)
	if err := closeWithin(t, d, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	got := recv.got()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(got))
	}
	for i, want := range []Notification{firing, resolved} {
		h := got[i].header
		if h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != "opsagent/"+version.Version || h.Get("Authorization") != "Bearer s3cret" {
			t.Errorf("request %d headers = %v", i, h)
		}
		var p Payload
		dec := json.NewDecoder(strings.NewReader(string(got[i].body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("request %d: decode %s: %v", i, got[i].body, err)
		}
		if p.APIVersion != diagnose.APIVersion || p.Kind != KindAlert || p.Status != want.Status || p.Fingerprint != want.Fingerprint ||
			p.Group.Name != "backend" || len(p.Findings) != 2 || !p.EndsAt.Equal(want.EndsAt) {
			t.Errorf("request %d payload = %+v", i, p)
		}
	}
	if s := stats(d, 0); s != (deliveryStats{sent: 2, attempts: 2}) {
		t.Errorf("stats = %+v", s)
	}
}

func TestDispatcherDeliversSlack(t *testing.T) {
	t.Parallel()
	recv := newTestReceiver(t, nil)
	d := newTestDispatcher(t, nil, fast("slack-1", recv.URL, FormatSlack))
	n := crashingBackend(1)
	d.Send(n)
	n.Status, n.EndsAt = Resolved, t0.Add(5*time.Minute)
	d.Send(n)
	if err := closeWithin(t, d, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	got := recv.got()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(got))
	}
	for i, prefix := range []string{":red_circle: [FIRING] critical Deployment todo/backend (prod)", ":white_check_mark: [RESOLVED] Deployment todo/backend (prod)"} {
		var msg struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(got[i].body, &msg); err != nil {
			t.Fatalf("decode %s: %v", got[i].body, err)
		}
		if !strings.HasPrefix(msg.Text, prefix) {
			t.Errorf("message %d = %q, want prefix %q", i, msg.Text, prefix)
		}
	}
}

func TestDispatcherRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer []int // then 200
		want   deliveryStats
	}{
		{"503 twice then 200: three attempts, sent once", []int{503, 503}, deliveryStats{sent: 1, attempts: 3}},
		{"429 and 408 are retried", []int{429, 408}, deliveryStats{sent: 1, attempts: 3}},
		{"400 is not retried", []int{400}, deliveryStats{failed: 1, attempts: 1}},
		{"404 is not retried", []int{404}, deliveryStats{failed: 1, attempts: 1}},
		{"a redirect is not followed", []int{301}, deliveryStats{failed: 1, attempts: 1}},
		{"5xx until out of attempts", []int{500, 502, 503, 504, 500}, deliveryStats{failed: 1, attempts: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recv := newTestReceiver(t, func(attempt int, w http.ResponseWriter, r *http.Request) {
				if attempt == 1 && tt.answer[0] == 301 {
					http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
					return
				}
				answerCodes(tt.answer...)(attempt, w, r)
			})
			d := newTestDispatcher(t, nil, fast("flaky", recv.URL, FormatJSON))
			d.Send(crashingBackend(1))
			if err := closeWithin(t, d, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if s := stats(d, 0); s != tt.want {
				t.Errorf("stats = %+v, want %+v", s, tt.want)
			}
			got := recv.got()
			if len(got) != int(tt.want.attempts) {
				t.Fatalf("receiver got %d requests, want %d", len(got), int(tt.want.attempts))
			}
			for _, r := range got[1:] {
				if string(r.body) != string(got[0].body) {
					t.Errorf("a retry sent another body:\n%s\n%s", r.body, got[0].body)
				}
			}
		})
	}
}

func TestDispatcherRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		maxBackoff time.Duration
		atLeast    time.Duration
		below      time.Duration
	}{
		{"honoured", "1", 5 * time.Second, time.Second, 4 * time.Second},
		{"capped at MaxBackoff", "3600", 50 * time.Millisecond, 50 * time.Millisecond, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recv := newTestReceiver(t, func(attempt int, w http.ResponseWriter, _ *http.Request) {
				if attempt == 1 {
					w.Header().Set("Retry-After", tt.retryAfter)
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			})
			cfg := fast("limited", recv.URL, FormatJSON)
			cfg.MaxBackoff = tt.maxBackoff
			d := newTestDispatcher(t, nil, cfg)
			d.Send(crashingBackend(1))
			if err := closeWithin(t, d, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			got := recv.got()
			if len(got) != 2 {
				t.Fatalf("receiver got %d requests, want 2", len(got))
			}
			if gap := got[1].at.Sub(got[0].at); gap < tt.atLeast || gap >= tt.below {
				t.Errorf("retried after %s, want [%s, %s)", gap, tt.atLeast, tt.below)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 7 ", 7 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{"99999999999999", (1 << 30) * time.Second},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	r := &receiver{cfg: ReceiverConfig{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 400 * time.Millisecond, 800 * time.Millisecond},
		{5, 500 * time.Millisecond, time.Second},
		{60, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		for range 50 {
			if got := r.backoff(tt.attempt, 0); got < tt.min || got > tt.max {
				t.Fatalf("backoff(%d) = %s, want [%s, %s]", tt.attempt, got, tt.min, tt.max)
			}
		}
	}
	if got := r.backoff(1, 700*time.Millisecond); got != 700*time.Millisecond {
		t.Errorf("backoff with Retry-After 700ms = %s", got)
	}
}

func TestDispatcherDeadReceiverNeverBlocksSend(t *testing.T) {
	t.Parallel()
	cfg := fast("dead", deadURL(t), FormatJSON)
	cfg.MaxAttempts, cfg.MaxBackoff = 8, 20*time.Millisecond
	d := newTestDispatcher(t, nil, cfg)

	const sends = 10_000
	start := time.Now()
	for i := range sends {
		d.Send(numbered(i))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("%d Sends to a dead receiver took %s", sends, took)
	}
	s := stats(d, 0)
	if s.dropped < float64(sends-cfg.QueueSize-10) || s.queued > float64(cfg.QueueSize) {
		t.Errorf("after %d sends: dropped %v, queued %v; want nearly all dropped, at most %d queued", sends, s.dropped, s.queued, cfg.QueueSize)
	}

	err := closeWithin(t, d, 200*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "not delivered") {
		t.Errorf("Close = %v, want a deadline error counting what was not delivered", err)
	}
	s = stats(d, 0)
	if s.sent != 0 || s.sent+s.failed+s.dropped != sends || s.queued != 0 {
		t.Errorf("after Close: %+v; want every one of %d notifications failed or dropped and an empty queue", s, sends)
	}
}

func TestDispatcherHungReceiverTimesOut(t *testing.T) {
	t.Parallel()
	recv := newTestReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers; returns when the client gives up
	})
	cfg := fast("hung", recv.URL, FormatJSON)
	cfg.Timeout, cfg.MaxAttempts = 100*time.Millisecond, 2
	d := newTestDispatcher(t, nil, cfg)

	start := time.Now()
	for i := range 3 {
		d.Send(numbered(i))
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("Send to a hung receiver took %s", took)
	}
	if err := closeWithin(t, d, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if s := stats(d, 0); s != (deliveryStats{failed: 3, attempts: 6}) {
		t.Errorf("stats = %+v, want 3 failed after 2 attempts each", s)
	}
}

func TestDispatcherSlowReceiverDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := newTestReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	healthy := newTestReceiver(t, nil)
	slowCfg := fast("slow", slow.URL, FormatJSON)
	slowCfg.Timeout = time.Minute
	d := newTestDispatcher(t, nil, slowCfg, fast("healthy", healthy.URL, FormatSlack))

	for i := range 5 {
		d.Send(numbered(i))
	}
	healthy.waitFor(t, 5, 3*time.Second)
	if s := stats(d, 0); s.sent != 0 {
		t.Errorf("the slow receiver answered already: %+v", s)
	}
	close(release)
	if err := closeWithin(t, d, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if slow, healthy := stats(d, 0), stats(d, 1); slow.sent != 5 || healthy.sent != 5 {
		t.Errorf("sent: slow %v, healthy %v; want 5 each once released", slow.sent, healthy.sent)
	}
}

func TestDispatcherCloseDrainsInOrder(t *testing.T) {
	t.Parallel()
	recv := newTestReceiver(t, func(int, http.ResponseWriter, *http.Request) { time.Sleep(2 * time.Millisecond) })
	cfg := fast("drain", recv.URL, FormatJSON)
	cfg.QueueSize = 32
	d := newTestDispatcher(t, nil, cfg)
	const n = 20
	for i := range n {
		d.Send(numbered(i))
	}
	if err := closeWithin(t, d, 10*time.Second); err != nil {
		t.Fatalf("Close = %v, want everything drained", err)
	}
	got := recv.got()
	if len(got) != n {
		t.Fatalf("receiver got %d, want %d", len(got), n)
	}
	for i, r := range got {
		var p Payload
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("backend-%d", i); p.Group.Name != want {
			t.Errorf("request %d is about %s, want %s (first in, first out)", i, p.Group.Name, want)
		}
	}

	d.Send(numbered(n))
	if s := stats(d, 0); s.sent != n || s.dropped != 1 {
		t.Errorf("a Send after Close: stats %+v, want it counted as dropped", s)
	}
	if err := closeWithin(t, d, time.Second); err != nil {
		t.Errorf("a second Close = %v", err)
	}
	if len(recv.got()) != n {
		t.Errorf("a Send after Close reached the receiver")
	}
}

func TestDispatcherMetricsRegistered(t *testing.T) {
	t.Parallel()
	recv := newTestReceiver(t, answerCodes(503, 503))
	reg := prometheus.NewPedanticRegistry()
	d := newTestDispatcher(t, reg, fast("flaky", recv.URL, FormatJSON))
	d.Send(crashingBackend(1))
	if err := closeWithin(t, d, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP opsagent_alert_delivery_attempts_total HTTP requests made to deliver alert notifications, retries included.
# TYPE opsagent_alert_delivery_attempts_total counter
opsagent_alert_delivery_attempts_total{receiver="flaky"} 3
# HELP opsagent_alert_queue_length Alert notifications waiting in a receiver's queue.
# TYPE opsagent_alert_queue_length gauge
opsagent_alert_queue_length{receiver="flaky"} 0
# HELP opsagent_alerts_dropped_total Alert notifications dropped unsent: the oldest of a full queue, or still queued when shutdown gave up.
# TYPE opsagent_alerts_dropped_total counter
opsagent_alerts_dropped_total{receiver="flaky"} 0
# HELP opsagent_alerts_failed_total Alert notifications given up on: retries exhausted, a non-retryable answer, or abandoned at shutdown.
# TYPE opsagent_alerts_failed_total counter
opsagent_alerts_failed_total{receiver="flaky"} 0
# HELP opsagent_alerts_sent_total Alert notifications a receiver accepted (2xx), by receiver and status (firing, resolved).
# TYPE opsagent_alerts_sent_total counter
opsagent_alerts_sent_total{receiver="flaky",status="firing"} 1
opsagent_alerts_sent_total{receiver="flaky",status="resolved"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	// A second dispatcher on the same registry (a restarted watcher) shares
	// the series instead of failing.
	if _, err := NewDispatcher([]ReceiverConfig{fast("flaky", recv.URL, FormatJSON)}, nil, reg); err != nil {
		t.Errorf("second dispatcher on one registry: %v", err)
	} else if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestNilDispatcher(t *testing.T) {
	t.Parallel()
	var d *Dispatcher
	d.Send(crashingBackend(1))
	if err := d.Close(context.Background()); err != nil {
		t.Errorf("Close of a nil dispatcher = %v", err)
	}
}

func TestNewDispatcherValidates(t *testing.T) {
	t.Parallel()
	const secret = "T000/B000/XXXXsecret"
	tests := []struct {
		name    string
		cfgs    []ReceiverConfig
		wantErr string // "" for none
	}{
		{"no URL", []ReceiverConfig{{}}, "alert receiver webhook-1: no URL given"},
		{"no scheme", []ReceiverConfig{{URL: "hooks.slack.com/services/" + secret, Format: FormatSlack}},
			`alert receiver slack-1: webhook URL "hooks.slack.com/…" is not http or https`},
		{"host and port only", []ReceiverConfig{{URL: "localhost:9093/hook"}}, `webhook URL "localhost:9093/…" is not http or https`},
		{"another scheme", []ReceiverConfig{{Name: "pager", URL: "ftp://user:pw@example.com/" + secret}},
			`alert receiver pager: webhook URL "ftp://…@example.com/…" is not http or https`},
		{"no host", []ReceiverConfig{{URL: "https:///" + secret}}, `webhook URL "https:///…" has no host`},
		{"not a URL", []ReceiverConfig{{URL: "http://exa mple.com/" + secret}}, "webhook URL is not valid (invalid character"},
		{"unknown format", []ReceiverConfig{{URL: "http://x", Format: "teams"}}, `alert receiver teams-1: format "teams" is not known`},
		{"negative", []ReceiverConfig{{URL: "http://x", MaxAttempts: -1}}, "must not be negative"},
		{"duplicate names", []ReceiverConfig{{URL: "http://a"}, {Name: "webhook-1", URL: "http://b"}}, "alert receiver webhook-1: the name is used twice"},
		{"valid", []ReceiverConfig{{URL: "http://127.0.0.1:1/a"}, {URL: "https://hooks.slack.com/x", Format: FormatSlack}}, ""},
	}
	for _, tt := range tests {
		d, err := NewDispatcher(tt.cfgs, nil, nil)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if names := []string{d.receivers[0].cfg.Name, d.receivers[1].cfg.Name}; names[0] != "webhook-1" || names[1] != "slack-2" {
				t.Errorf("%s: default names %q", tt.name, names)
			}
			if c := d.receivers[0].cfg; c.Timeout != DefaultTimeout || c.MaxAttempts != DefaultMaxAttempts || c.InitialBackoff != DefaultInitialBackoff ||
				c.MaxBackoff != DefaultMaxBackoff || c.QueueSize != DefaultQueueSize || c.Format != FormatJSON {
				t.Errorf("%s: defaults not applied: %+v", tt.name, c)
			}
			if err := closeWithin(t, d, time.Second); err != nil {
				t.Errorf("%s: Close: %v", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want it to contain %q", tt.name, err, tt.wantErr)
		} else if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: error shows the URL's secret: %v", tt.name, err)
		}
	}
}

// TestDispatcherStopsEveryGoroutine is not parallel: it counts the
// process's goroutines, which other tests running alongside would change.
func TestDispatcherStopsEveryGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		defer ok.Close()
		hung := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			// Reading the body lets the server notice the client hanging up.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}))
		defer hung.Close()
		hungCfg := fast("hung", hung.URL, FormatJSON)
		hungCfg.Timeout = time.Minute

		d, err := NewDispatcher([]ReceiverConfig{fast("ok", ok.URL, FormatJSON), fast("slack", ok.URL, FormatSlack), hungCfg}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			d.Send(numbered(i))
		}
		// The hung receiver holds a request: Close gives up on it at the deadline.
		if err := closeWithin(t, d, 300*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close = %v, want a deadline error for the hung receiver", err)
		}
	}()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/alert"
	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/watch"
)

// WatchOptions are the flags of `opsagent watch`.
type WatchOptions struct {
	diagnoseScope
	Interval       time.Duration
	SyncTimeout    time.Duration
	Webhooks       []string
	SlackWebhooks  []string
	AlertRepeat    time.Duration
	AlertResolve   time.Duration
	AlertFire      time.Duration
	MetricsAddr    string
	History        string
	SampleInterval time.Duration

	global *GlobalOptions
	genericiooptions.IOStreams
	getenv func(string) string

	// Resolved by Complete.
	clients *kube.Clients
	opts    diagnose.Options
}

// NewCmdWatch is `opsagent watch`: diagnose continuously, report what
// opens and what is resolved, alert, export metrics, sample usage.
func NewCmdWatch(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := &WatchOptions{global: g, IOStreams: streams, getenv: os.Getenv, Interval: 30 * time.Second,
		SyncTimeout: 2 * time.Minute, AlertRepeat: 4 * time.Hour, AlertResolve: time.Minute, SampleInterval: time.Minute}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Diagnose continuously: report new and resolved findings, alert, export metrics",
		Long: `Watch runs the checks of 'opsagent diagnose' continuously. It reads each kind
once and then follows changes with watches (no periodic LISTs), diagnoses what
changed half a second after it changed (and every --interval, for the rules
that depend on time), and reports each finding that opens or is resolved.

-o json writes one WatchEvent per line (types synced, new, resolved, error;
see docs/watch.md). Findings already open when watch starts are reported as
new with "initial": true.

Alerts (--alert-webhook for a JSON receiver, --slack-webhook for a Slack
incoming webhook; both repeatable; or the variables OPSAGENT_ALERT_WEBHOOK and
OPSAGENT_SLACK_WEBHOOK, which keep a URL that is a credential out of the
process's arguments) are grouped by owner: one notification
when a Deployment's (or other owner's) first problem opens, one more only if
it turns critical, one when all of its problems are resolved, and a reminder
every --alert-repeat while it lasts. Delivery retries with backoff in the
background; a receiver that is down never holds up the watch.

--metrics-addr serves Prometheus metrics at /metrics (open findings by
severity and rule, API requests by verb, ...) and /healthz, /readyz.

Usage is sampled every --sample-interval from metrics-server into the local
history that 'opsagent recommend' reads (--sample-interval 0 turns it off).

Secret values are redacted from everything watch writes or sends. It runs
until interrupted (Ctrl-C, SIGTERM) and then exits 0; it exits 1 when it
cannot start (cluster unreachable, caches not filled within --sync-timeout).`,
		Example: `  opsagent watch -n todo
  opsagent watch -A -o json --alert-webhook http://alerts.example:9000/hook
  opsagent watch -A --slack-webhook https://hooks.slack.com/services/T0/B0/XXX --metrics-addr :9090`,
		Args: exactArgs(0),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	o.addFlags(cmd, "watch")
	f.DurationVar(&o.Interval, "interval", o.Interval, "diagnose again this often without changes (time-based rules)")
	f.DurationVar(&o.SyncTimeout, "sync-timeout", o.SyncTimeout, "how long the first read of the cluster may take")
	f.StringArrayVar(&o.Webhooks, "alert-webhook", nil, "send alerts as JSON to this URL (repeatable)")
	f.StringArrayVar(&o.SlackWebhooks, "slack-webhook", nil, "send alerts to this Slack-compatible incoming webhook (repeatable)")
	f.DurationVar(&o.AlertRepeat, "alert-repeat", o.AlertRepeat, "remind of a still-open alert this often (0: never)")
	f.DurationVar(&o.AlertFire, "alert-fire-after", 0, "alert only on problems open this long (an escalation meanwhile is one alert; a blip none)")
	f.DurationVar(&o.AlertResolve, "alert-resolve-after", o.AlertResolve, "send a resolved notice only after the problem has been gone this long (rides out a crash loop's healthy moments)")
	f.StringVar(&o.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics, /healthz and /readyz on this address (e.g. :9090)")
	f.StringVar(&o.History, "history", "", "usage history file (default $XDG_STATE_HOME/opsagent/usage/<context>.json)")
	f.DurationVar(&o.SampleInterval, "sample-interval", o.SampleInterval, "sample usage from metrics-server this often (0: off)")
	return cmd
}

// Validate checks the flags (pure checks).
func (o *WatchOptions) Validate(_ []string) error {
	if err := o.validate(); err != nil {
		return err
	}
	switch {
	case o.Interval < time.Second:
		return fmt.Errorf("--interval %s is too short: at least 1s", o.Interval)
	case o.SyncTimeout <= 0:
		return fmt.Errorf("--sync-timeout must be positive")
	case o.SampleInterval < 0 || (o.SampleInterval > 0 && o.SampleInterval < 10*time.Second):
		return fmt.Errorf("--sample-interval %s: use 0 (off) or at least 10s (metrics-server refreshes every 15 s or more)", o.SampleInterval)
	case o.AlertRepeat < 0 || o.AlertResolve < 0 || o.AlertFire < 0:
		return fmt.Errorf("--alert-repeat, --alert-fire-after and --alert-resolve-after cannot be negative")
	}
	if _, err := o.receivers(); err != nil {
		return err
	}
	if o.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(o.MetricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr %q: %v (use HOST:PORT or :PORT)", o.MetricsAddr, err)
		}
	}
	return nil
}

// Environment variables naming one more receiver each, for URLs that are
// credentials (a Slack webhook's is) and should not be in a process's
// arguments: the opsagent chart sets them from a Secret.
const (
	envAlertWebhook = "OPSAGENT_ALERT_WEBHOOK"
	envSlackWebhook = "OPSAGENT_SLACK_WEBHOOK"
)

// receivers turns the webhook flags and variables into receiver
// configurations, each URL checked.
func (o *WatchOptions) receivers() ([]alert.ReceiverConfig, error) {
	var rs []alert.ReceiverConfig
	add := func(name string, f alert.Format, url string) {
		rs = append(rs, alert.ReceiverConfig{Name: name, URL: url, Format: f})
	}
	for i, u := range o.Webhooks {
		add(fmt.Sprintf("webhook-%d", i+1), alert.FormatJSON, u)
	}
	for i, u := range o.SlackWebhooks {
		add(fmt.Sprintf("slack-%d", i+1), alert.FormatSlack, u)
	}
	if u := o.getenv(envAlertWebhook); u != "" {
		add(envAlertWebhook, alert.FormatJSON, u)
	}
	if u := o.getenv(envSlackWebhook); u != "" {
		add(envSlackWebhook, alert.FormatSlack, u)
	}
	for _, r := range rs {
		if err := alert.CheckURL(r.URL); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
	}
	return rs, nil
}

// Complete builds the clients and the diagnosis scope.
func (o *WatchOptions) Complete(_ []string) error {
	clients, err := kube.NewClients(o.global.ConfigFlags)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	o.clients = clients
	o.opts = o.options(o.global, clients)
	return nil
}

// Run watches until ctx ends.
func (o *WatchOptions) Run(ctx context.Context) error {
	log := slog.Default()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := watch.NewMetrics(reg)

	receivers, err := o.receivers()
	if err != nil {
		return BadInput(err)
	}
	var dispatcher *alert.Dispatcher
	if len(receivers) > 0 {
		dispatcher, err = alert.NewDispatcher(receivers, log, reg)
		if err != nil {
			return BadInput(err)
		}
		defer func() {
			// Resolved notices queued at the end get a few seconds.
			drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := dispatcher.Close(drain); err != nil {
				log.Warn("alerts not delivered before exit", "err", err)
			}
		}()
	}
	wo := watch.Options{
		Diagnose: o.opts, Interval: o.Interval, SyncTimeout: o.SyncTimeout,
		Alerts: dispatcher, AlertPolicy: alert.Policy{RepeatInterval: repeatOrNever(o.AlertRepeat), ResolveAfter: o.AlertResolve, FireAfter: o.AlertFire},
		Metrics: metrics, Log: log,
	}
	if o.SampleInterval > 0 {
		wo.Sample = &watch.SampleOptions{Interval: o.SampleInterval, HistoryPath: o.History}
	}
	w, err := watch.New(o.clients.Config, o.clients.Context, wo)
	if err != nil {
		return diagnoseError("watch", err)
	}
	if o.MetricsAddr != "" {
		stop, err := serveMetrics(o.MetricsAddr, reg, metrics, log)
		if err != nil {
			return &ExitError{Code: ExitFailed, Err: err}
		}
		defer stop()
	}
	sink := o.textSink()
	if o.Output == outputJSON {
		enc := json.NewEncoder(o.Out)
		sink = func(e watch.Event) error { return enc.Encode(e) }
	}
	if err := w.Run(ctx, sink); err != nil {
		return diagnoseError("watch", err)
	}
	return nil
}

// repeatOrNever maps the flag's 0 ("never") onto the policy's "never".
func repeatOrNever(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// textSink writes one line per event, for people.
func (o *WatchOptions) textSink() watch.Sink {
	return func(e watch.Event) error {
		ts := e.Time.Local().Format(time.TimeOnly)
		var line string
		switch e.Type {
		case watch.EventSynced:
			n := 0
			for _, c := range e.Sync.Objects {
				n += c
			}
			line = fmt.Sprintf("%s watching %d objects (read in %d ms); changes are diagnosed as they happen", ts, n, e.Sync.DurationMillis)
			for _, ce := range e.Sync.Errors {
				line += fmt.Sprintf("\n%s   not checked: %s: %s", ts, ce.Resource, terminalSafe(ce.Message))
			}
		case watch.EventNew, watch.EventResolved:
			word := "NEW     "
			if e.Type == watch.EventResolved {
				word = "RESOLVED"
			}
			f := e.Finding
			line = fmt.Sprintf("%s %s %-8s %s %s: %s", ts, word, f.Severity, f.Rule, terminalSafe(f.Object.String()), terminalSafe(f.Summary))
			if g := e.Group; g != nil && (g.Kind != f.Object.Kind || g.Namespace != f.Object.Namespace || g.Name != f.Object.Name) {
				line += "  [" + terminalSafe(e.Group.String()) + "]"
			}
		case watch.EventError:
			line = fmt.Sprintf("%s ERROR    %s", ts, terminalSafe(e.Message))
		default:
			return nil
		}
		_, err := fmt.Fprintln(o.Out, line)
		return err
	}
}

// serveMetrics serves /metrics, /healthz and /readyz (ready once the caches
// are filled) until stop is called.
func serveMetrics(addr string, reg *prometheus.Registry, m *watch.Metrics, log *slog.Logger) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !m.IsSynced() {
			http.Error(w, "caches not filled yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "addr", l.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // the process is exiting; nothing to do with the error
	}, nil
}

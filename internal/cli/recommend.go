package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/agent/report"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/usagetools"
	"github.com/opsagent/opsagent/internal/toolset"
	"github.com/opsagent/opsagent/internal/usage"
)

// RecommendOptions are the flags of `opsagent recommend`.
type RecommendOptions struct {
	// The approval flags and gate of the release commands: --apply runs
	// each change through the same gate, policy and audit log.
	*releaseOptions
	AllNamespaces bool
	Selector      string
	Window        string
	History       string
	// PrometheusURL, else $OPSAGENT_PROMETHEUS_URL, is the Prometheus
	// usage is read from first.
	PrometheusURL string
	Apply         bool

	// Resolved by Complete.
	clients *kube.Clients
	request usagetools.Request
}

// envPrometheusURL is the variable naming recommend's Prometheus when
// --prometheus-url does not (shared with the agent tool).
const envPrometheusURL = usagetools.EnvPrometheusURL

// NewCmdRecommend is `opsagent recommend`: right-sizing per container, with
// evidence, and --apply through the gate.
func NewCmdRecommend(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := &RecommendOptions{releaseOptions: newReleaseOptions(g, streams), Window: usage.FormatWindow(usage.DefaultWindow)}
	// --apply reaches the workload tools and, for the built-in chart, Helm.
	o.newTools = func(c *kube.Clients) []tools.Tool { return toolset.New(c, toolset.Options{}) }
	cmd := &cobra.Command{
		Use:   "recommend [WORKLOAD]",
		Short: "Recommend CPU and memory requests and limits from usage",
		Long: `Recommend compares what each container of each workload uses with what it
requests and may use, and recommends requests and limits with the evidence:
the source (Prometheus when --prometheus-url or $OPSAGENT_PROMETHEUS_URL names
one, else the local history that opsagent watch records, else one
metrics-server snapshot), the window, the number of samples, percentiles and
peaks, and a confidence. The rules are in docs/usage.md: CPU requests follow
the 95th percentile plus 15%, memory requests the peak plus 15%, never below
an observed peak; an OOM kill raises memory; limits are only ever raised.

Findings of their own: missing requests or limits, limits below requests or
below the observed peak, OOM kills, and an HPA scaling on CPU for a container
without a CPU request. The totals say how many cores and GiB lower requests
would free, and how many raised or missing requests need.

--apply applies each change through the approval gate, like any change:
set_resources on the workload, or for a workload of the built-in Todo Chatbot
chart a Helm upgrade of the release's values (previewed as its diff).

-o json prints the report described in docs/usage.md.`,
		Example: `  opsagent recommend -n todo
  opsagent recommend backend -n todo --apply
  opsagent recommend -A --window 14d -o json
  opsagent recommend -n todo --prometheus-url http://prometheus.monitoring:9090`,
		Args: rangeArgs(0, 1),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "every namespace")
	f.StringVarP(&o.Selector, "selector", "l", "", "label selector on pods")
	f.StringVar(&o.Window, "window", o.Window, "how much usage to read (Prometheus or the local history): e.g. 7d, 36h")
	f.StringVar(&o.History, "history", "", "usage history file (default $XDG_STATE_HOME/opsagent/usage/<context>.json)")
	f.StringVar(&o.PrometheusURL, "prometheus-url", "", "read usage first from this Prometheus (cAdvisor series; default $"+envPrometheusURL+")")
	f.BoolVar(&o.Apply, "apply", false, "apply each recommended change through the approval gate")
	o.addSharedFlags(cmd, &approvalOffer{destructive: true})
	return cmd
}

// Validate checks the flags and the argument.
func (o *RecommendOptions) Validate(args []string) error {
	if err := o.validate(); err != nil {
		return err
	}
	if _, err := usage.ParseWindow(o.Window); err != nil {
		return fmt.Errorf("--window: %w", err)
	}
	if o.AllNamespaces && len(args) == 1 {
		return errors.New("name a workload with -n NAMESPACE, not with -A")
	}
	if o.PrometheusURL != "" {
		if _, err := usage.NewPromClient(o.PrometheusURL, nil); err != nil {
			return fmt.Errorf("--prometheus-url: %w", err)
		}
	}
	return nil
}

// Complete builds the clients and loads the history.
func (o *RecommendOptions) Complete(args []string) error {
	window, _ := usage.ParseWindow(o.Window) // checked by Validate
	var prom *usage.PromClient
	var err error
	if o.PrometheusURL != "" {
		prom, _ = usage.NewPromClient(o.PrometheusURL, nil) // checked by Validate
	} else if prom, err = usagetools.PrometheusFromEnv(os.Getenv); err != nil {
		return BadInput(err)
	}
	clients, err := kube.NewClients(o.global.ConfigFlags)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	o.clients = clients
	ns, _ := namespaceOf(o.global, clients)
	hist, err := usage.LoadHistoryOf(clients.Context, o.History)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	o.request = usagetools.Request{Namespace: ns, AllNamespaces: o.AllNamespaces, Selector: o.Selector,
		Options: usage.Options{Window: window, History: hist}, Prometheus: prom}
	if len(args) == 1 {
		o.request.Name = args[0]
	}
	return nil
}

// Run recommends, prints, and with --apply runs each change through the gate.
func (o *RecommendOptions) Run(ctx context.Context) error {
	res, err := usagetools.Run(ctx, o.clients, o.request)
	if err != nil {
		code := ExitFailed
		if tools.IsBadInput(err) {
			code = ExitBadInput
		}
		return &ExitError{Code: code, Err: err}
	}
	if !o.Apply {
		if o.Output == outputJSON {
			return writeJSON(o.Out, res)
		}
		return writeRecommendations(o.Out, res)
	}
	return o.apply(ctx, res)
}

// apply runs every apply call through one gate. It stops at the first call
// that is refused or fails: the rest would be asked in a state the person
// did not expect.
func (o *RecommendOptions) apply(ctx context.Context, res *usagetools.Result) error {
	out := struct {
		*usagetools.Result
		Records []*tools.Record `json:"records"`
	}{Result: res}
	if o.Output != outputJSON {
		if err := writeRecommendations(o.Out, res); err != nil {
			return err
		}
	}
	gate, err := o.newReleaseGate()
	if err != nil {
		return err
	}
	var failed error
	for _, call := range res.Apply {
		if call.Tool == "" {
			continue
		}
		rec := gate.Call(ctx, call.Tool, call.Args)
		out.Records = append(out.Records, rec)
		if o.Output != outputJSON {
			if _, err := fmt.Fprintf(o.Out, "\n%s %s, container %s:\n", call.Namespace, call.Workload, call.Container); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
			if err := report.Record(o.Out, rec, report.Options{ShowReadResults: true}); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
		if err := rec.Err(); err != nil {
			// The text shows the error with the record.
			failed = &ExitError{Code: exitCodeFor(err), Err: err, Silent: o.Output == outputText}
			break
		}
	}
	if o.Output == outputJSON {
		if err := writeJSON(o.Out, out); err != nil {
			return err
		}
	}
	if len(out.Records) == 0 && o.Output != outputJSON {
		if _, err := fmt.Fprintln(o.Out, "\nNothing to apply."); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return failed
}

// writeRecommendations prints one block per container that has something
// to say, then the totals and the notes.
func writeRecommendations(w io.Writer, res *usagetools.Result) error {
	var b strings.Builder
	rep := res.Report
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "NAMESPACE\tWORKLOAD\tCONTAINER\tVERDICT\tCPU REQ\t→\tMEM REQ\t→\tCONFIDENCE\tSOURCE")
	for _, r := range rep.Recommendations {
		_, _ = fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", terminalSafe(r.Namespace),
			strings.ToLower(r.Workload.Kind), terminalSafe(r.Workload.Name), terminalSafe(r.Container), r.Verdict,
			orDash(r.Current.CPURequest, usage.FormatCPU), orDash(r.Recommended.CPURequest, usage.FormatCPU),
			orDash(r.Current.MemoryRequest, usage.FormatMemory), orDash(r.Recommended.MemoryRequest, usage.FormatMemory),
			r.Confidence, evidenceText(r.Evidence))
	}
	_ = tw.Flush() // writes to a strings.Builder
	for _, r := range rep.Recommendations {
		if len(r.Changes) == 0 && len(r.Findings) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s/%s, container %s (%d replica(s)): %s\n", terminalSafe(r.Namespace), strings.ToLower(r.Workload.Kind),
			terminalSafe(r.Workload.Name), terminalSafe(r.Container), r.Replicas, r.Verdict)
		for _, c := range r.Changes {
			fmt.Fprintf(&b, "  change:  %s\n", c)
		}
		for _, why := range r.Reasons {
			fmt.Fprintf(&b, "  because: %s\n", why)
		}
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "  finding: [%s] %s\n", f.Code, f.Message)
		}
	}
	if rep.Prometheus != "" {
		fmt.Fprintf(&b, "\nUsage from Prometheus at %s (container_cpu_usage_seconds_total, container_memory_working_set_bytes).\n", terminalSafe(rep.Prometheus))
	}
	t := rep.Totals
	fmt.Fprintf(&b, "\nTotals over the replicas: lower requests would free %.2f cores and %.2f GiB; raised or missing requests need %.2f cores and %.2f GiB.\n",
		t.CPUFreedCores, t.MemoryFreedGiB, t.CPUMissingCores, t.MemoryMissingGiB)
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "Note: %s.\n", n)
	}
	for _, c := range res.Apply {
		if c.Note != "" {
			fmt.Fprintf(&b, "Note: %s %s: %s.\n", c.Namespace, c.Workload, c.Note)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// evidenceText is the evidence in a table cell: "history 7d, 2016 samples, 167h0m0s".
func evidenceText(e usage.Evidence) string {
	span := ""
	if e.From != nil && e.To != nil {
		d := e.To.Sub(*e.From)
		// Minutes over a long span; seconds over a short window.
		if d >= time.Hour {
			d = d.Round(time.Minute)
		} else {
			d = d.Round(time.Second)
		}
		span = ", " + d.String()
	}
	switch e.Source {
	case usage.SourcePrometheus:
		return fmt.Sprintf("prometheus %s, %d samples%s", e.Window, e.Samples, span)
	case usage.SourceHistory:
		return fmt.Sprintf("history %s, %d samples%s", e.Window, e.Samples, span)
	case usage.SourceMetricsServer:
		return fmt.Sprintf("snapshot, %d pod(s)", e.Samples)
	}
	return "no usage"
}

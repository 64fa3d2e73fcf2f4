package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/usage"
)

// TopOptions are the flags of `opsagent top`.
type TopOptions struct {
	AllNamespaces bool
	Selector      string
	Output        string
	output        *outputFlag
	Sort          string

	global *GlobalOptions
	genericiooptions.IOStreams

	// Resolved by Complete.
	nodes     bool
	sortBy    usage.SortBy
	clients   *kube.Clients
	namespace string
}

// NewCmdTop is `opsagent top [pods|nodes]`: usage next to requests and
// limits, sorted by waste or pressure.
func NewCmdTop(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TopOptions{global: g, IOStreams: streams, Sort: string(usage.SortWaste)}
	cmd := &cobra.Command{
		Use:   "top [pods|nodes]",
		Short: "Show CPU and memory usage next to requests and limits",
		Long: `Top shows what each container (or node) uses, as metrics-server reports it,
next to what it requests and may use (limits), with the percentage of each.

--sort waste (the default) puts first what reserves the most and uses the
least; --sort pressure what is closest to its request or limit. For nodes,
"requests" are the sum of their pods' requests against allocatable.

Without metrics-server (the metrics.k8s.io API) the requests and limits are
still shown, and the output says why usage is missing.

-o json prints the TopReport described in docs/usage.md: CPU in millicores,
memory in bytes.`,
		Example: `  opsagent top -n todo
  opsagent top pods -A --sort pressure
  opsagent top nodes -o json`,
		Args:      rangeArgs(0, 1),
		ValidArgs: []string{"pods", "nodes"},
		RunE:      runOptions(o),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "every namespace")
	f.StringVarP(&o.Selector, "selector", "l", "", "label selector on pods")
	o.output = addOutputFlag(cmd, &o.Output)
	f.StringVar(&o.Sort, "sort", o.Sort, "order: waste (reserved and unused first) or pressure (closest to request or limit first)")
	return cmd
}

// Validate checks the argument and the flags.
func (o *TopOptions) Validate(args []string) error {
	if _, err := topNodes(args); err != nil {
		return err
	}
	if err := o.output.validate(); err != nil {
		return err
	}
	if _, err := usage.ParseSortBy(o.Sort); err != nil {
		return fmt.Errorf("--sort: %w", err)
	}
	return nil
}

// topNodes reports whether the argument asks for nodes rather than pods.
func topNodes(args []string) (bool, error) {
	if len(args) == 0 {
		return false, nil
	}
	switch args[0] {
	case "pods", "pod", "po":
		return false, nil
	case "nodes", "node", "no":
		return true, nil
	}
	return false, fmt.Errorf("unknown resource %q: use pods or nodes", args[0])
}

// Complete builds the clients and resolves the namespace.
func (o *TopOptions) Complete(args []string) error {
	o.nodes, _ = topNodes(args)             // checked by Validate
	o.sortBy, _ = usage.ParseSortBy(o.Sort) // checked by Validate
	clients, err := kube.NewClients(o.global.ConfigFlags)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	o.clients = clients
	o.namespace, _ = namespaceOf(o.global, clients)
	if o.AllNamespaces {
		o.namespace = ""
	}
	return nil
}

// Run collects and prints.
func (o *TopOptions) Run(ctx context.Context) error {
	snap, err := usage.Collect(ctx, o.clients.Config, o.clients.Typed, usage.Scope{Namespace: o.namespace, Selector: o.Selector, Nodes: o.nodes})
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	rep := usage.TopPods(snap, o.sortBy)
	if o.nodes {
		rep = usage.TopNodes(snap, o.sortBy)
	}
	if o.Output == outputJSON {
		return writeJSON(o.Out, rep)
	}
	if rep.MetricsUnavailable != "" {
		if _, err := fmt.Fprintln(o.ErrOut, "warning: no usage:", rep.MetricsUnavailable); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	if o.nodes {
		return writeTopNodes(o.Out, rep.Nodes)
	}
	return writeTopPods(o.Out, rep.Containers, o.namespace == "")
}

func writeTopPods(w io.Writer, rows []usage.ContainerRow, showNS bool) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no running pods")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if showNS {
		_, _ = fmt.Fprint(tw, "NAMESPACE\t")
	}
	_, _ = fmt.Fprintln(tw, "POD\tCONTAINER\tCPU\tREQ\tLIM\t%REQ\t%LIM\tMEMORY\tREQ\tLIM\t%REQ\t%LIM")
	for _, r := range rows {
		if showNS {
			_, _ = fmt.Fprintf(tw, "%s\t", terminalSafe(r.Namespace))
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", terminalSafe(r.Pod), terminalSafe(r.Container),
			usage.FormatCPU(r.CPU.Usage), orDash(r.CPU.Request, usage.FormatCPU), orDash(r.CPU.Limit, usage.FormatCPU),
			pctText(r.CPU.PctOfRequest), pctText(r.CPU.PctOfLimit),
			memText(r.Memory.Usage), orDash(r.Memory.Request, memText), orDash(r.Memory.Limit, memText),
			pctText(r.Memory.PctOfRequest), pctText(r.Memory.PctOfLimit))
	}
	return tw.Flush()
}

func writeTopNodes(w io.Writer, rows []usage.NodeRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "NODE\tPODS\tCPU\t%ALLOC\tREQUESTED\t%ALLOC\tMEMORY\t%ALLOC\tREQUESTED\t%ALLOC")
	for _, r := range rows {
		_, _ = fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", terminalSafe(r.Name), r.Pods,
			usage.FormatCPU(r.CPU.Usage), pctText(r.PctCPUUsed), usage.FormatCPU(r.CPU.Request), pctText(r.CPU.PctOfRequest),
			memText(r.Memory.Usage), pctText(r.PctMemoryUsed), memText(r.Memory.Request), pctText(r.Memory.PctOfRequest))
	}
	return tw.Flush()
}

// memText rounds bytes to whole MiB for tables (usage is rarely a round
// number).
func memText(b int64) string {
	return fmt.Sprintf("%dMi", (b+(1<<19))>>20)
}

func orDash(v int64, format func(int64) string) string {
	if v == 0 {
		return "-"
	}
	return format(v)
}

func pctText(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", *p)
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/charts"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/preflight"
)

// PreflightOptions are the flags of `opsagent preflight`.
type PreflightOptions struct {
	ValueFiles []string
	Set        []string
	Output     string
	output     *outputFlag

	global *GlobalOptions
	genericiooptions.IOStreams

	// Resolved by Complete.
	chart   *chart.Chart
	values  map[string]any
	clients *kube.Clients
}

// NewPreflightOptions returns the defaults.
func NewPreflightOptions(g *GlobalOptions, streams genericiooptions.IOStreams) *PreflightOptions {
	return &PreflightOptions{global: g, IOStreams: streams}
}

// NewCmdPreflight is `opsagent preflight`: can this cluster take the Todo
// Chatbot chart with these values?
func NewCmdPreflight(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewPreflightOptions(g, streams)
	cmd := &cobra.Command{
		Use:   "preflight",
		Short: "Check that the cluster can take the Todo Chatbot chart before installing it",
		Long: `Preflight checks the cluster before an install: the API server answers, its
version satisfies the chart's kubeVersion, the Ready and schedulable nodes have
enough free CPU and memory for the chart's requests (rendered with your values,
replicas included), the StorageClass of the database volume exists (or a
default one, when the chart names none) and the Ingress's IngressClass exists.

Every failed check says how to fix it, with minikube commands.

-o json prints {"passed": bool, "checks": [{"name", "ok", "detail", "fix"}]}.

Exit codes: 0 every check passed; 1 a check failed or the cluster could not be
read; 2 bad flags or values.`,
		Example: `  opsagent preflight
  opsagent preflight -f my-values.yaml --set backend.replicaCount=3
  opsagent preflight --context minikube -o json`,
		Args: exactArgs(0),
		RunE: runOptions(o),
	}
	cmd.Flags().StringArrayVarP(&o.ValueFiles, "values", "f", nil, "chart values file (may be repeated; a later file wins)")
	cmd.Flags().StringArrayVar(&o.Set, "set", nil, "chart value on the command line, helm syntax: a.b=1,c=x (may be repeated)")
	o.output = addOutputFlag(cmd, &o.Output)
	return cmd
}

// Validate checks the flags.
func (o *PreflightOptions) Validate(_ []string) error {
	return o.output.validate()
}

// Complete loads the chart, merges the values like helm (-f files in order,
// then --set) and builds the clients.
func (o *PreflightOptions) Complete(_ []string) error {
	ch, err := charts.TodoChatbot()
	if err != nil {
		return err
	}
	o.chart = ch
	// No getter providers: values files are local paths (or - for stdin).
	vals, err := (&values.Options{ValueFiles: o.ValueFiles, Values: o.Set}).MergeValues(getter.Providers{})
	if err != nil {
		return BadInput(fmt.Errorf("values: %w", err))
	}
	o.values = vals
	if o.clients, err = kube.NewClients(o.global.ConfigFlags); err != nil {
		return err
	}
	return nil
}

// Run gathers the cluster state, runs the checks and prints the report.
func (o *PreflightOptions) Run(ctx context.Context) error {
	rep, err := preflight.Run(ctx, o.clients.Typed, o.chart, o.values)
	if err != nil {
		// The chart did not render with these values.
		return BadInput(err)
	}
	if o.Output == outputJSON {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	} else if err := printPreflight(o, rep); err != nil {
		return err
	}
	if !rep.Passed {
		return &ExitError{Code: ExitFailed, Err: errors.New("preflight checks failed"), Silent: o.Output == outputJSON}
	}
	return nil
}

// printPreflight prints one line per check, then the fixes of failed ones.
func printPreflight(o *PreflightOptions, rep preflight.Report) error {
	tw := tabwriter.NewWriter(o.Out, 0, 4, 2, ' ', 0)
	// The tabwriter buffers the table; a failed write fails again at Flush.
	_, _ = fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL")
	for _, c := range rep.Checks {
		status := "ok"
		if !c.OK {
			status = "FAIL"
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, status, c.Detail)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	var fixes strings.Builder
	for _, c := range rep.Checks {
		if !c.OK {
			fmt.Fprintf(&fixes, "\nfix %s: %s\n", c.Name, c.Fix)
		}
	}
	if rep.Passed {
		fixes.WriteString("\nAll checks passed.\n")
	}
	if _, err := io.WriteString(o.Out, fixes.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

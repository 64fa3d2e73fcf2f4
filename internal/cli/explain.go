package cli

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/kube"
)

// ExplainOptions are the flags of `opsagent explain`.
type ExplainOptions struct {
	Output string
	output *outputFlag

	global *GlobalOptions
	genericiooptions.IOStreams

	// Resolved by Complete.
	name      string
	namespace string
	clients   *kube.Clients
	color     bool

	// Seams for tests.
	getenv  func(string) string
	colorOK func(w io.Writer, getenv func(string) string) bool
}

// NewExplainOptions returns the defaults.
func NewExplainOptions(g *GlobalOptions, streams genericiooptions.IOStreams) *ExplainOptions {
	return &ExplainOptions{global: g, IOStreams: streams, getenv: os.Getenv, colorOK: colorTerminal}
}

// NewCmdExplain is `opsagent explain`: everything about why one workload
// fails, then the cause and the fix.
func NewCmdExplain(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdExplain(NewExplainOptions(g, streams))
}

func newCmdExplain(o *ExplainOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain [POD | KIND/NAME]",
		Short: "Explain why a pod or workload fails: evidence, cause and fix",
		Long: `Explain gathers everything about one pod or workload: its status, its pods, the
events of it and its pods, the previous log of crashing containers, the Secrets
and ConfigMaps it references (and which are missing), its owner chain and the
Deployment's rollout history (ReplicaSet revisions and their images); then the
cause and the fix.

The name may be a pod, KIND/NAME (deployment/backend, sts/db, job/migrate,
cronjob/backup), or a short name ("backend" finds todo-backend, or the
workload labelled app=backend). Without an argument every failing pod of the
namespace is explained.

-o json prints an ExplainReport (an ExplainList without an argument); see
docs/diagnose.md.

Exit codes: 0 healthy; 4 problems found; 2 unknown or ambiguous name; 1 could
not read the cluster.`,
		Example: `  opsagent explain backend -n todo
  opsagent explain deployment/todo-chatbot-backend -n todo -o json
  opsagent explain -n todo          # every failing pod`,
		Args: rangeArgs(0, 1),
		RunE: runOptions(o),
	}
	o.output = addOutputFlag(cmd, &o.Output)
	return cmd
}

// Validate checks the flags.
func (o *ExplainOptions) Validate(_ []string) error { return o.output.validate() }

// Complete resolves the target, the namespace and the clients.
func (o *ExplainOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.name = args[0]
	}
	clients, err := kube.NewClients(o.global.ConfigFlags)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	o.clients = clients
	o.namespace, _ = namespaceOf(o.global, clients)
	o.color = o.Output != outputJSON && o.colorOK(o.Out, o.getenv)
	return nil
}

// Run explains and prints. The exit code says whether anything fails.
func (o *ExplainOptions) Run(ctx context.Context) error {
	d, err := diagnose.New(o.clients)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	opts := diagnose.ExplainOptions{Namespace: o.namespace, Name: o.name}
	text := diagnose.TextOptions{Color: o.color}
	var healthy bool
	if o.name == "" {
		list, err := d.ExplainFailing(ctx, opts)
		if err != nil {
			return diagnoseError("could not explain", err)
		}
		healthy = list.Healthy
		if o.Output == outputJSON {
			err = writeJSON(o.Out, list)
		} else {
			err = diagnose.WriteExplainListText(o.Out, list, text)
		}
		if err != nil {
			return &ExitError{Code: ExitFailed, Err: err}
		}
	} else {
		rep, err := d.Explain(ctx, opts)
		if err != nil {
			return diagnoseError("could not explain", err)
		}
		healthy = rep.Healthy
		if o.Output == outputJSON {
			err = writeJSON(o.Out, rep)
		} else {
			err = diagnose.WriteExplainText(o.Out, rep, text)
		}
		if err != nil {
			return &ExitError{Code: ExitFailed, Err: err}
		}
	}
	if !healthy {
		return &ExitError{Code: ExitProblemsFound, Silent: true}
	}
	return nil
}

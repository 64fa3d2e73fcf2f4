package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/diagnose/llmexplain"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// DiagnoseOptions are the flags of `opsagent diagnose`.
type DiagnoseOptions struct {
	diagnoseScope
	Explain bool

	global *GlobalOptions
	genericiooptions.IOStreams

	// Resolved by Complete.
	clients *kube.Clients
	opts    diagnose.Options
	cfg     config.Config
	color   bool

	// Seams for tests.
	getenv  func(string) string
	colorOK func(w io.Writer, getenv func(string) string) bool
}

// NewDiagnoseOptions returns the defaults.
func NewDiagnoseOptions(g *GlobalOptions, streams genericiooptions.IOStreams) *DiagnoseOptions {
	return &DiagnoseOptions{global: g, IOStreams: streams, getenv: os.Getenv, colorOK: colorTerminal}
}

// NewCmdDiagnose is `opsagent diagnose`: what is wrong in a namespace or the
// cluster, with evidence, cause and fix, without a model.
func NewCmdDiagnose(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdDiagnose(NewDiagnoseOptions(g, streams))
}

func newCmdDiagnose(o *DiagnoseOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diagnose",
		Short: "Find what is wrong in a namespace or the cluster, and how to fix it",
		Long: `Diagnose lists every kind once, in parallel, and checks pods, workloads, Services,
Ingresses, PersistentVolumeClaims, nodes, HorizontalPodAutoscalers and Helm releases
for known failures: crash loops (with the last exit code and the previous log),
OOM kills, image pull errors, missing Secrets/ConfigMaps/keys, unschedulable pods,
failing probes, stalled rollouts, failed Jobs, Services without endpoints, broken
Ingress backends, pending volumes, node pressure, failed Helm releases.

Each finding has a severity, the object and its owner (pods are grouped under
their Deployment, StatefulSet, DaemonSet, Job or CronJob), evidence, a plain
cause and concrete fix commands. Most severe first. Secret values and tokens
are redacted. kube-system, kube-public and kube-node-lease are skipped unless
named with -n.

--explain adds a model's explanation per group (OPENAI_API_KEY, OPENAI_BASE_URL,
OPSAGENT_MODEL); answers are cached under $XDG_CACHE_HOME/opsagent/explain.

-o json prints a versioned DiagnoseReport (see docs/diagnose.md).

Exit codes: 0 healthy; 4 problems found; 1 could not diagnose (cluster
unreachable, or some checks could not run and nothing was found); 2 bad input.`,
		Example: `  opsagent diagnose -n todo
  opsagent diagnose -A --kind Pod,Service
  opsagent diagnose -n todo -l app.kubernetes.io/instance=todo -o json
  opsagent diagnose -n todo --explain`,
		Args: exactArgs(0),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	o.addFlags(cmd, "check")
	f.BoolVar(&o.Explain, "explain", false, "add a model's explanation of each group (needs OPENAI_API_KEY)")
	return cmd
}

// Validate checks the flags (pure checks).
func (o *DiagnoseOptions) Validate(_ []string) error { return o.validate() }

// diagnoseScope is what diagnose and watch look at and how they print it:
// the flags -A, -l, --kind and -o they share.
type diagnoseScope struct {
	AllNamespaces bool
	Selector      string
	Kinds         []string
	Output        string
	output        *outputFlag
}

// addFlags adds the scope flags; verb says what is done to every
// namespace ("check", "watch").
func (s *diagnoseScope) addFlags(cmd *cobra.Command, verb string) {
	f := cmd.Flags()
	f.BoolVarP(&s.AllNamespaces, "all-namespaces", "A", false, verb+" every namespace (system namespaces excepted)")
	f.StringVarP(&s.Selector, "selector", "l", "", "label selector the reported objects must match")
	f.StringSliceVar(&s.Kinds, "kind", nil, "only these kinds, comma-separated: "+strings.Join(diagnose.Kinds(), ", "))
	s.output = addOutputFlag(cmd, &s.Output)
}

func (s *diagnoseScope) validate() error {
	if err := s.output.validate(); err != nil {
		return err
	}
	if _, err := diagnose.ParseKinds(s.Kinds); err != nil {
		return fmt.Errorf("--kind: %w", err)
	}
	return nil
}

// options are the diagnose options of the scope: the namespace from -n or
// the kubeconfig, and whether -n named it.
func (s *diagnoseScope) options(g *GlobalOptions, c *kube.Clients) diagnose.Options {
	ns, explicit := namespaceOf(g, c)
	return diagnose.Options{
		Namespace: ns, NamespaceExplicit: explicit, AllNamespaces: s.AllNamespaces,
		Selector: s.Selector, Kinds: s.Kinds,
	}
}

// Complete resolves the namespace, the clients and, for --explain, the model
// configuration.
func (o *DiagnoseOptions) Complete(_ []string) error {
	clients, err := kube.NewClients(o.global.ConfigFlags)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	o.clients = clients
	o.opts = o.options(o.global, clients)
	if o.Explain {
		cfg, err := config.Load(o.getenv)
		if err != nil {
			return BadInput(err)
		}
		o.cfg = cfg
	}
	o.color = o.Output != outputJSON && o.colorOK(o.Out, o.getenv)
	return nil
}

// Run diagnoses and prints the report. The exit code says what was found.
func (o *DiagnoseOptions) Run(ctx context.Context) error {
	d, err := diagnose.New(o.clients)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	rep, err := d.Diagnose(ctx, o.opts)
	if err != nil {
		return diagnoseError("could not diagnose", err)
	}
	if o.Explain {
		if o.cfg.LLMEnabled() {
			ex := llmexplain.New(llmexplain.Config{
				Client: llmexplain.NewClient(o.cfg), Model: o.cfg.Model, CacheDir: llmexplain.CacheDir(o.getenv),
			})
			if err := ex.Explain(ctx, rep); err != nil {
				return &ExitError{Code: ExitFailed, Err: fmt.Errorf("explain: %w", err)}
			}
		} else {
			llmexplain.RulesOnly(rep)
		}
	}
	if o.Output == outputJSON {
		err = writeJSON(o.Out, rep)
	} else {
		err = diagnose.WriteText(o.Out, rep, diagnose.TextOptions{Color: o.color})
	}
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	switch {
	case rep.Problems():
		return &ExitError{Code: ExitProblemsFound, Silent: true}
	case len(rep.Errors) > 0:
		return &ExitError{Code: ExitFailed, Silent: true}
	}
	return nil
}

// namespaceOf is the namespace to work in, and whether -n named it.
func namespaceOf(g *GlobalOptions, c *kube.Clients) (string, bool) {
	if f := g.ConfigFlags; f != nil && f.Namespace != nil && *f.Namespace != "" {
		return *f.Namespace, true
	}
	if c.Namespace != "" {
		return c.Namespace, false
	}
	return "default", false
}

// diagnoseError maps a diagnosis error to an exit code.
func diagnoseError(what string, err error) error {
	if errors.Is(err, diagnose.ErrInvalidOptions) || tools.IsBadInput(err) {
		return BadInput(err)
	}
	if errors.Is(err, context.Canceled) {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s: %w", what, err)}
}

// colorTerminal reports whether w is a terminal that should get colours:
// not when NO_COLOR is set (https://no-color.org) or TERM is dumb.
func colorTerminal(w io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/chart/loader"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/agent/report"
	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/session"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
)

// maxReleaseTimeout bounds --timeout of the release commands.
const maxReleaseTimeout = time.Hour

// releaseOptions are the flags and plumbing the release commands share: each
// builds one tool call and runs it through the same tools.Gate, approval
// policy and audit log as the agent.
type releaseOptions struct {
	approvalFlags
	Output  string
	Timeout time.Duration

	global *GlobalOptions
	genericiooptions.IOStreams
	output *outputFlag
	// newTools builds the tools the gate runs: the Helm tools, or the one
	// tool a create command built for its values.
	newTools func(*kube.Clients) []tools.Tool
	// helm configures the Helm tools: install allows the chart and values
	// files the user typed.
	helm releasetools.Options
	// createNamespace: install's --create-namespace, which puts creating
	// the request's namespace within what --yes approves.
	createNamespace bool

	// Seams for tests.
	getenv     func(string) string
	isTerminal func(any) bool
}

func newReleaseOptions(g *GlobalOptions, streams genericiooptions.IOStreams) *releaseOptions {
	o := &releaseOptions{global: g, IOStreams: streams, getenv: os.Getenv, isTerminal: isTerminal}
	o.newTools = o.helmTools
	return o
}

func (o *releaseOptions) helmTools(c *kube.Clients) []tools.Tool {
	return releasetools.New(c.Getter, session.Namespace(c), o.helm)
}

// addSharedFlags adds -o, which every release command has, and for a command that
// changes the cluster the approval flags.
func (o *releaseOptions) addSharedFlags(cmd *cobra.Command, offer *approvalOffer) {
	if offer != nil {
		o.approvalFlags.addFlags(cmd.Flags(), *offer)
	}
	o.output = addOutputFlag(cmd, &o.Output)
}

func (o *releaseOptions) validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	if o.Timeout < 0 || o.Timeout > maxReleaseTimeout {
		return fmt.Errorf("--timeout must be between 0 and %s, got %s", maxReleaseTimeout, o.Timeout)
	}
	return nil
}

// timeoutSeconds converts --timeout for the tools, rounding up.
func (o *releaseOptions) timeoutSeconds() int {
	return int(math.Ceil(o.Timeout.Seconds()))
}

// newReleaseGate builds the shared gate (session.NewGate) over o.newTools.
func (o *releaseOptions) newReleaseGate() (*tools.Gate, error) {
	cfg, err := config.Load(o.getenv)
	if err != nil {
		return nil, BadInput(err)
	}
	if o.AuditLog != "" {
		cfg.AuditLog = o.AuditLog
	}
	clients, err := kube.NewClients(o.global.ConfigFlags)
	if err != nil {
		return nil, err
	}
	settings := o.gateSettings(cfg.AuditLog)
	if o.createNamespace {
		settings.CreateNamespace = session.Namespace(clients)
	}
	if !o.NonInteractive && o.isTerminal(o.In) {
		settings.Ask = newAsker(o.In, o.ErrOut, nil).ask
	}
	reg := tools.NewRegistry(o.newTools(clients)...)
	return session.NewGate(reg, clients, settings), nil
}

// call runs one tool call through the gate, prints the record and returns
// the error that sets the exit code.
func (o *releaseOptions) call(ctx context.Context, tool string, args any) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("encode %s arguments: %w", tool, err)
	}
	gate, err := o.newReleaseGate()
	if err != nil {
		return err
	}
	rec := gate.Call(ctx, tool, raw)
	if o.Output == outputJSON {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("write JSON output: %w", err)
		}
	} else if err := report.Record(o.Out, rec, report.Options{ShowReadResults: true}); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if err := rec.Err(); err != nil {
		// The text shows the error with the record, as the agent's does.
		return &ExitError{Code: exitCodeFor(err), Err: err, Silent: o.Output == outputText}
	}
	return nil
}

// InstallOptions are the flags of `opsagent install`.
type InstallOptions struct {
	*releaseOptions
	ValuesFiles     []string
	Set             []string
	CreateNamespace bool
	Atomic          bool
	Wait            bool
	ReuseValues     bool

	args releasetools.DeployArgs
}

// NewCmdInstall builds `opsagent install`.
func NewCmdInstall(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := &InstallOptions{releaseOptions: newReleaseOptions(g, streams), Atomic: true, Wait: true}
	cmd := &cobra.Command{
		Use:   "install [RELEASE] [CHART_DIR]",
		Short: "Install or upgrade a Helm release (default: the built-in Todo Chatbot chart)",
		Long: `Install the release, or upgrade it if it exists (helm upgrade --install).
RELEASE defaults to todo-chatbot and CHART_DIR to the chart built into opsagent.

The change is previewed first, from a server-side dry run: the objects a new
release creates, or a per-object diff for an upgrade. It is applied after
approval: --yes, or an answer on a terminal.

Exit codes: 0 done; 1 failed; 2 bad input; 3 approval needed and not given.`,
		Example: `  opsagent install --yes -n todo --create-namespace
  opsagent install --set backend.replicaCount=2 --dry-run
  opsagent install my-app ./charts/my-app -f values.yaml --yes`,
		Args: rangeArgs(0, 2),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.ValuesFiles, "values", "f", nil, "values file (repeatable; later files win)")
	f.StringArrayVar(&o.Set, "set", nil, "set a value, key=value (repeatable; wins over -f)")
	f.BoolVar(&o.CreateNamespace, "create-namespace", false, "create the namespace if it does not exist")
	f.BoolVar(&o.Atomic, "atomic", o.Atomic, "undo a failed deploy (roll back an upgrade, remove an install); implies --wait")
	f.BoolVar(&o.Wait, "wait", o.Wait, "wait until the workloads are ready")
	f.BoolVar(&o.ReuseValues, "reuse-values", false, "on upgrade, keep the last revision's values and apply -f/--set on top")
	f.DurationVar(&o.Timeout, "timeout", 0, "how long to wait (default 5m)")
	o.addSharedFlags(cmd, &approvalOffer{})
	return cmd
}

// Validate checks the flags and helm_deploy's arguments; the chart is
// checked by Complete, which loads it.
func (o *InstallOptions) Validate(args []string) error {
	if err := o.validate(); err != nil {
		return err
	}
	return o.deployArgs(args).Validate()
}

// deployArgs are helm_deploy's arguments without the chart.
func (o *InstallOptions) deployArgs(args []string) releasetools.DeployArgs {
	a := releasetools.DeployArgs{
		ValuesSet: o.Set, ValuesFiles: o.ValuesFiles, ReuseValues: o.ReuseValues,
		CreateNamespace: o.CreateNamespace, Atomic: &o.Atomic, Wait: &o.Wait, TimeoutSeconds: o.timeoutSeconds(),
	}
	if len(args) > 0 {
		a.Release = args[0]
	}
	return a
}

// Complete loads the chart and allows the tool to read it and the values
// files.
func (o *InstallOptions) Complete(args []string) error {
	a := o.deployArgs(args)
	if len(args) > 1 {
		dir, err := filepath.Abs(args[1])
		if err != nil {
			return BadInput(fmt.Errorf("chart %s: %w", args[1], err))
		}
		if _, err := loader.Load(dir); err != nil {
			return BadInput(fmt.Errorf("load chart %s: %w", args[1], err))
		}
		a.ChartPath = dir
	}
	// The user typed these paths, so the tool may read them (and nothing
	// else on disk); the size caps still apply.
	o.helm = releasetools.Options{RootsFlag: "the CHART_DIR and -f arguments of install"}
	for _, p := range append([]string{a.ChartPath}, o.ValuesFiles...) {
		if p == "" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return BadInput(fmt.Errorf("%s: %w", p, err))
		}
		o.helm.ChartRoots = append(o.helm.ChartRoots, abs)
	}
	o.createNamespace = o.CreateNamespace
	o.args = a
	return nil
}

// Run deploys through the gate.
func (o *InstallOptions) Run(ctx context.Context) error {
	return o.call(ctx, releasetools.NameDeploy, o.args)
}

// releaseCallOptions is what status, history, rollback and uninstall
// share: the release flags, RELEASE as the first argument, and one call of
// tool. Each command's Validate builds the tool's arguments and passes them
// to check; Run calls the tool through the gate, which resolves the
// namespace and prints the record as -o asks.
type releaseCallOptions struct {
	*releaseOptions
	tool string
	args tools.Validator
}

func newReleaseCallOptions(g *GlobalOptions, streams genericiooptions.IOStreams, tool string) releaseCallOptions {
	return releaseCallOptions{releaseOptions: newReleaseOptions(g, streams), tool: tool}
}

// releaseArg is RELEASE, the first argument, or "" for the tool's default.
func releaseArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

// check validates the shared flags and the tool's arguments a (release name,
// namespace, timeout), and keeps a for Run.
func (o *releaseCallOptions) check(a tools.Validator) error {
	if err := errors.Join(o.validate(), a.Validate()); err != nil {
		return err
	}
	o.args = a
	return nil
}

// Complete has nothing to resolve: the gate builds the clients when Run
// calls it.
func (o *releaseCallOptions) Complete([]string) error { return nil }

// Run calls the tool through the gate.
func (o *releaseCallOptions) Run(ctx context.Context) error {
	return o.call(ctx, o.tool, o.args)
}

// ReleaseReadOptions are the flags of `opsagent status` and `opsagent
// history`, which differ only in their tool.
type ReleaseReadOptions struct{ releaseCallOptions }

var _ commandOptions = (*ReleaseReadOptions)(nil)

// Validate checks -o and RELEASE.
func (o *ReleaseReadOptions) Validate(args []string) error {
	return o.check(releasetools.ReleaseArgs{Release: releaseArg(args)})
}

// NewCmdStatus builds `opsagent status`.
func NewCmdStatus(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	return newReadReleaseCmd(g, streams, releasetools.NameStatus, "status [RELEASE]",
		"Show a release's status, revision and objects (default release: todo-chatbot)")
}

// NewCmdHistory builds `opsagent history`.
func NewCmdHistory(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	return newReadReleaseCmd(g, streams, releasetools.NameHistory, "history [RELEASE]",
		"List a release's revisions (default release: todo-chatbot)")
}

func newReadReleaseCmd(g *GlobalOptions, streams genericiooptions.IOStreams, tool, use, short string) *cobra.Command {
	o := &ReleaseReadOptions{newReleaseCallOptions(g, streams, tool)}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  rangeArgs(0, 1),
		RunE:  runOptions(o),
	}
	o.addSharedFlags(cmd, nil)
	return cmd
}

// RollbackOptions are the flags of `opsagent rollback`.
type RollbackOptions struct {
	releaseCallOptions
	Wait bool
}

var _ commandOptions = (*RollbackOptions)(nil)

// NewCmdRollback builds `opsagent rollback`.
func NewCmdRollback(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := &RollbackOptions{releaseCallOptions: newReleaseCallOptions(g, streams, releasetools.NameRollback), Wait: true}
	cmd := &cobra.Command{
		Use:   "rollback RELEASE [REVISION]",
		Short: "Roll a release back to an earlier revision (default: the last good one before the current)",
		Example: `  opsagent rollback todo-chatbot --yes
  opsagent rollback todo-chatbot 1 --dry-run`,
		Args: rangeArgs(1, 2),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	f.BoolVar(&o.Wait, "wait", o.Wait, "wait until the restored workloads are ready")
	f.DurationVar(&o.Timeout, "timeout", 0, "how long to wait (default 5m)")
	o.addSharedFlags(cmd, &approvalOffer{})
	return cmd
}

// Validate checks the flags, RELEASE and REVISION.
func (o *RollbackOptions) Validate(args []string) error {
	a := releasetools.RollbackArgs{Release: releaseArg(args), Wait: &o.Wait, TimeoutSeconds: o.timeoutSeconds()}
	if len(args) > 1 {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			return fmt.Errorf("REVISION %q must be a revision number (see `opsagent history %s`)", args[1], args[0])
		}
		a.Revision = n
	}
	return o.check(a)
}

// UninstallOptions are the flags of `opsagent uninstall`.
type UninstallOptions struct {
	releaseCallOptions
	Wait bool
}

var _ commandOptions = (*UninstallOptions)(nil)

// NewCmdUninstall builds `opsagent uninstall`.
func NewCmdUninstall(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := &UninstallOptions{releaseCallOptions: newReleaseCallOptions(g, streams, releasetools.NameUninstall)}
	cmd := &cobra.Command{
		Use:   "uninstall RELEASE",
		Short: "Uninstall a release (destructive: needs --allow-destructive and approval)",
		Long: `Uninstall a release and its history. Objects annotated
helm.sh/resource-policy: keep, such as the database's PersistentVolumeClaim,
stay. The preview lists what is removed and kept. Being destructive, it needs
--allow-destructive, and --yes or an answer on a terminal.`,
		Example: `  opsagent uninstall todo-chatbot --allow-destructive --yes`,
		Args:    exactArgs(1),
		RunE:    runOptions(o),
	}
	f := cmd.Flags()
	f.BoolVar(&o.Wait, "wait", o.Wait, "wait until the removed objects are gone")
	f.DurationVar(&o.Timeout, "timeout", 0, "how long to wait (default 5m)")
	o.addSharedFlags(cmd, &approvalOffer{destructive: true})
	return cmd
}

// Validate checks the flags and RELEASE.
func (o *UninstallOptions) Validate(args []string) error {
	return o.check(releasetools.UninstallArgs{Release: releaseArg(args), Wait: o.Wait, TimeoutSeconds: o.timeoutSeconds()})
}

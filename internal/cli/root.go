// Package cli holds opsagent's cobra commands. Each command follows kubectl's
// shape: an Options struct with its flags and IO streams, Validate (pure
// checks of the input), Complete (resolve the environment) and Run (the
// I/O), called in that order by runOptions.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/version"
)

// Exit codes, shared by every command and documented in the README.
const (
	ExitOK               = 0
	ExitFailed           = 1 // an action failed, or the command could not run
	ExitBadInput         = 2 // invalid flags or arguments, unknown workload, unmappable request
	ExitApprovalRequired = 3 // a mutation needed approval that was not given
	ExitProblemsFound    = 4 // diagnose found problems
	ExitNotConverged     = 5 // a change was made but its wait timed out (rollout, drain)
)

// ExitError carries an exit code out of a command's RunE.
type ExitError struct {
	Code int
	Err  error
	// Silent means the command already reported the error (e.g. in its JSON
	// output), so Execute must not print it again.
	Silent bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// BadInput wraps err as an exit-code-2 error.
func BadInput(err error) error { return &ExitError{Code: ExitBadInput, Err: err} }

// commandOptions is the shape of a command's Options, in the order
// runOptions calls it. Unlike kubectl, Validate comes first: bad input is
// reported as such (exit 2) even when no cluster is configured or reachable.
type commandOptions interface {
	// Validate checks what the user typed: flags, arguments and their
	// values. It reads no file and builds no client; an error is bad input.
	Validate(args []string) error
	// Complete resolves the environment: configuration, local files,
	// clients. Its errors carry their own exit code (BadInput for an
	// unreadable input file, ExitFailed for a kubeconfig that does not load).
	Complete(args []string) error
	// Run does the work.
	Run(ctx context.Context) error
}

// runOptions is the RunE of every command with an Options type: Validate,
// then Complete, then Run.
func runOptions(o commandOptions) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Validate(args); err != nil {
			return BadInput(err)
		}
		if err := o.Complete(args); err != nil {
			return err
		}
		return o.Run(cmd.Context())
	}
}

// GlobalOptions are the flags every command shares.
type GlobalOptions struct {
	ConfigFlags *genericclioptions.ConfigFlags
	Verbose     bool
}

// NewRootCmd builds the opsagent command tree.
func NewRootCmd(streams genericiooptions.IOStreams) *cobra.Command {
	g := &GlobalOptions{ConfigFlags: genericclioptions.NewConfigFlags(true)}
	cmd := &cobra.Command{
		Use:   "opsagent [REQUEST]",
		Short: "A natural-language operations agent for Kubernetes",
		Long: `opsagent runs operations on a Kubernetes cluster from plain requests,
such as "scale backend to 3" or "why is the backend failing?".

With an OpenAI-compatible endpoint configured (OPENAI_API_KEY, OPENAI_BASE_URL)
a model chooses the tools; without one a deterministic planner maps the request
onto the same tools. Every change is previewed and needs approval.`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			level := slog.LevelWarn
			if g.Verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(streams.ErrOut, &slog.HandlerOptions{Level: level})))
		},
	}
	flags := cmd.PersistentFlags()
	// Only the kubectl flags that make sense for an agent; the full set
	// (tokens, client certs, ...) stays reachable through the kubeconfig.
	g.ConfigFlags.AddFlags(flags)
	flags.BoolVarP(&g.Verbose, "verbose", "v", false, "log debug details to stderr")

	// Unknown flags and bad flag values are bad input (exit 2), like bad arguments.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return BadInput(err) })

	// Cobra's own output (help, completion scripts, __complete) goes to the
	// injected streams too, not straight to the process's.
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)

	addAgentCommand(cmd, g, streams)
	cmd.AddCommand(
		NewCmdSandbox(streams),
		NewCmdDiagnose(g, streams),
		NewCmdExplain(g, streams),
		NewCmdInstall(g, streams),
		NewCmdStatus(g, streams),
		NewCmdHistory(g, streams),
		NewCmdRollback(g, streams),
		NewCmdUninstall(g, streams),
		NewCmdPreflight(g, streams),
		NewCmdEval(g, streams),
		NewCmdCreate(g, streams),
		NewCmdMCP(g, streams),
		NewCmdTop(g, streams), NewCmdRecommend(g, streams),
		NewCmdServe(g, streams),
		NewCmdWatch(g, streams),
		NewCmdVersion(streams),
	)
	return cmd
}

// Execute runs the CLI and returns the process exit code.
// Interrupts (Ctrl-C, SIGTERM, SIGHUP) follow runCommand's rules.
func Execute() int {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	cmd := NewRootCmd(streams)
	adaptToInvocationName(cmd, os.Args) // kubectl-opsagent, kubectl_complete-opsagent
	return runCommand(cmd, streams.ErrOut, os.Exit)
}

func exitCode(err error, errOut io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if !ee.Silent && ee.Err != nil {
			_, _ = fmt.Fprintln(errOut, "error:", ee.Err) // stderr is the last resort: nowhere to report its failure
		}
		return ee.Code
	}
	_, _ = fmt.Fprintln(errOut, "error:", err) // as above
	return ExitFailed
}

// exactArgs is cobra.ExactArgs with the error marked as bad input.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return BadInput(fmt.Errorf("%w; see '%s --help'", err, cmd.CommandPath()))
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs with the error marked as bad input.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return BadInput(fmt.Errorf("%w; see '%s --help'", err, cmd.CommandPath()))
		}
		return nil
	}
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/opsagent/opsagent/internal/audit"
	"github.com/opsagent/opsagent/internal/tools"
)

// ExitInterrupted is the exit code after a second interrupt: 128 + SIGINT,
// what shells report for a process killed by Ctrl-C.
const ExitInterrupted = 130

// interruptSignals stop a run. SIGHUP (the terminal went away) is one of
// them: its default action kills the process between a mutation's audit
// "started" record and its "done" record, so the outcome would be lost.
// docs/signals.md explains the choices.
var interruptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// errInterrupted is the cause of the context a signal cancels.
var errInterrupted = errors.New("interrupted")

// runCommand executes cmd under the interrupt rules and returns the exit
// code: the first signal cancels the context, so the current step stops
// its wait, writes its audit record and reports; afterwards any change that
// may be half made is named with the command that shows its state. A
// second signal exits at once (exit calls os.Exit) with ExitInterrupted and
// one line naming what was still running.
func runCommand(cmd *cobra.Command, errOut io.Writer, exit func(int)) int {
	ctx, inFlight := audit.WithInFlight(context.Background())
	ctx, stop := onInterrupt(ctx, errOut, inFlight, exit)
	defer stop()
	code := exitCode(cmd.ExecuteContext(ctx), errOut)
	if errors.Is(context.Cause(ctx), errInterrupted) {
		for _, e := range inFlight.Unsettled() {
			// Best effort: the terminal may be gone (SIGHUP); the audit
			// log has the record either way.
			_, _ = fmt.Fprintf(errOut, "interrupted: %s may be half-done%s\n", audit.Describe(e), checkHint(e, "; "))
		}
	}
	return code
}

// onInterrupt returns ctx cancelled by the first interrupt signal; the
// second calls exit(ExitInterrupted). stop undoes the signal handling.
func onInterrupt(parent context.Context, errOut io.Writer, inFlight *audit.InFlight, exit func(int)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, interruptSignals...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			_, _ = fmt.Fprintf(errOut, "\n%s: stopping after the current step (interrupt again to exit at once)\n", signalName(sig))
			cancel(fmt.Errorf("%w by %s", errInterrupted, signalName(sig)))
		case <-done:
			return
		}
		select {
		case <-sigs:
			_, _ = fmt.Fprintln(errOut, exitNowMessage(inFlight.Running()))
			exit(ExitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// exitNowMessage is the one line printed when a second interrupt ends the
// process while a mutation may be half made.
func exitNowMessage(running []tools.AuditEntry) string {
	if len(running) == 0 {
		return "interrupted again: exiting now; no change was in progress"
	}
	what := make([]string, len(running))
	for i, e := range running {
		what[i] = audit.Describe(e)
		if hint := checkHint(e, ""); hint != "" {
			what[i] += " (" + hint + ")"
		}
	}
	return "interrupted again: exiting now; may be left half-done: " + strings.Join(what, "; ")
}

// checkHint is how to see what e left: sep + "check: CMD; CMD".
func checkHint(e tools.AuditEntry, sep string) string {
	cmds := audit.RecoveryCommands(e)
	if len(cmds) == 0 {
		return ""
	}
	return sep + "check: " + strings.Join(cmds, "; ")
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "interrupt"
	case syscall.SIGTERM:
		return "terminated"
	case syscall.SIGHUP:
		return "hangup"
	}
	return sig.String()
}

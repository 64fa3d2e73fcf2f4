package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/opsagent/opsagent/internal/audit"
	"github.com/opsagent/opsagent/internal/tools"
)

// The interrupt tests run this test binary again as a child process (the
// helper below), let it start a mutation through the real gate and audit
// log, send it signals and read its exit code, stderr and audit log. The
// mutation stands in for a long wait: "cancellable" returns when its
// context ends, as our waits do; "stuck" ignores it, as a Helm hook wait
// does until its own timeout.
const interruptHelperEnv = "OPSAGENT_INTERRUPT_HELPER"

func TestInterruptHelperProcess(t *testing.T) {
	mode := os.Getenv(interruptHelperEnv)
	if mode == "" {
		t.Skip("run as a child process by the interrupt tests")
	}
	os.Exit(runCommand(interruptHelperCmd(mode, os.Getenv("OPSAGENT_AUDIT_LOG")), os.Stderr, os.Exit))
}

type waitArgs struct {
	Name string `json:"name"`
}

func interruptHelperCmd(mode, auditPath string) *cobra.Command {
	wait := tools.Define("wait_rollout", "waits for a rollout", tools.Write,
		func(_ context.Context, a waitArgs) (tools.Action, error) {
			return tools.Mutation{
				Plan: tools.Preview{Summary: "deployment/" + a.Name + ": restart",
					Targets: []tools.Target{{Kind: "Deployment", Namespace: "todo", Name: a.Name}}},
				Apply: func(ctx context.Context) (any, error) {
					fmt.Println("running") // the parent sends its signals now
					if mode == "stuck" {
						select {}
					}
					<-ctx.Done()
					return nil, fmt.Errorf("wait for rollout: %w", ctx.Err())
				},
			}, nil
		})
	gate := &tools.Gate{
		Registry: tools.NewRegistry(wait),
		Approver: &tools.Policy{AssumeYes: true},
		Scope:    tools.Scope{Namespace: "todo"},
		Audit:    audit.New(auditPath, "test", "todo"),
	}
	return &cobra.Command{
		Use: "helper", SilenceErrors: true, SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// A name a cluster could hold: it must reach the terminal
			// harmless and quoted.
			rec := gate.Call(cmd.Context(), "wait_rollout", json.RawMessage(`{"name":"backend; rm -rf ~\u001b[2J"}`))
			if rec.Err() != nil {
				return &ExitError{Code: ExitFailed, Err: rec.Err()}
			}
			return nil
		},
	}
}

type helperRun struct {
	code           int
	stderr         string
	auditPhases    []string
	auditLastError string
}

// runInterruptHelper starts the helper in mode, sends sigs once the
// mutation runs (pausing between them so each is handled on its own), and
// waits for the exit.
func runInterruptHelper(t *testing.T, mode string, sigs ...syscall.Signal) helperRun {
	t.Helper()
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestInterruptHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), interruptHelperEnv+"="+mode, "OPSAGENT_AUDIT_LOG="+auditPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "running" {
				close(started)
			}
		}
		exited <- cmd.Wait()
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the helper never started its mutation; stderr:\n%s", stderr.String())
	}
	for i, sig := range sigs {
		if i > 0 {
			time.Sleep(200 * time.Millisecond) // the first is being handled
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
	}
	var werr error
	select {
	case werr = <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("the helper did not exit after %v; stderr:\n%s", sigs, stderr.String())
	}
	run := helperRun{stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(werr, &ee):
		run.code = ee.ExitCode()
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			run.code = -int(st.Signal()) // killed by the signal itself
		}
	case werr != nil:
		t.Fatal(werr)
	}
	if data, err := os.ReadFile(auditPath); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var e struct{ Phase, Error string }
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("audit line %q: %v", line, err)
			}
			run.auditPhases = append(run.auditPhases, e.Phase)
			run.auditLastError = e.Error
		}
	}
	return run
}

func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	recovery := `kubectl rollout status 'deployment/backend; rm -rf ~[2J' -n todo`
	tests := []struct {
		name       string
		mode       string
		sigs       []syscall.Signal
		wantCode   int
		wantPhases string
		wantStderr []string
	}{
		{
			// The first Ctrl-C stops the wait; the step records its
			// outcome and the run says what to check.
			name: "one Ctrl-C", mode: "cancellable", sigs: []syscall.Signal{syscall.SIGINT},
			wantCode: ExitFailed, wantPhases: "started done",
			wantStderr: []string{"interrupt: stopping", "interrupted: wait_rollout on deployment/backend; rm -rf ~[2J in todo may be half-done; check: " + recovery + "\n"},
		},
		{
			// A closed terminal is an interrupt too: the started record
			// gets its outcome instead of the process dying between them.
			name: "hangup", mode: "cancellable", sigs: []syscall.Signal{syscall.SIGHUP},
			wantCode: ExitFailed, wantPhases: "started done",
			wantStderr: []string{"hangup: stopping", "may be half-done"},
		},
		{
			// A wait that ignores cancellation: the second Ctrl-C exits at
			// once and names what was running.
			name: "second Ctrl-C", mode: "stuck", sigs: []syscall.Signal{syscall.SIGINT, syscall.SIGINT},
			wantCode: ExitInterrupted, wantPhases: "started",
			wantStderr: []string{"interrupt again to exit at once", "interrupted again: exiting now; may be left half-done: wait_rollout on deployment/backend; rm -rf ~[2J in todo (check: " + recovery + ")"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			run := runInterruptHelper(t, tt.mode, tt.sigs...)
			if run.code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", run.code, tt.wantCode, run.stderr)
			}
			if got := strings.Join(run.auditPhases, " "); got != tt.wantPhases {
				t.Errorf("audit phases %q, want %q", got, tt.wantPhases)
			}
			if tt.wantPhases == "started done" && !strings.Contains(run.auditLastError, "context canceled") {
				t.Errorf("the done record's error is %q, want the cancellation", run.auditLastError)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(run.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, run.stderr)
				}
			}
			if strings.ContainsRune(run.stderr, '\x1b') {
				t.Errorf("stderr passes an escape sequence from a name to the terminal: %q", run.stderr)
			}
		})
	}
}

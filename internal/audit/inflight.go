package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/opsagent/opsagent/internal/termsafe"
	"github.com/opsagent/opsagent/internal/tools"
)

// InFlight follows the mutations one process has started, from the audit
// records the gate writes: a "started" record is written just before a
// tool runs and a "done" record with its outcome afterwards, so between
// the two the change may be half made. The CLI reads it when interrupted,
// to say what may be left half-done and how to check it.
//
// It travels in the request's context (WithInFlight), which Log.Record
// receives, so no surface has to wire it through the gate.
type InFlight struct {
	mu sync.Mutex
	// running are started mutations without a done record yet; failed the
	// done ones that ended in an error (a cancelled wait among them).
	running, failed []tools.AuditEntry
}

type inFlightKey struct{}

// WithInFlight returns ctx carrying a new InFlight, which every Log records
// into.
func WithInFlight(ctx context.Context) (context.Context, *InFlight) {
	f := &InFlight{}
	return context.WithValue(ctx, inFlightKey{}, f), f
}

func inFlightFrom(ctx context.Context) *InFlight {
	f, _ := ctx.Value(inFlightKey{}).(*InFlight)
	return f
}

// note records one written audit entry.
func (f *InFlight) note(e tools.AuditEntry) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch e.Phase {
	case tools.AuditStarted:
		f.running = append(f.running, e)
	case tools.AuditDone:
		// The gate writes the done record from the started one, changing
		// only phase, time and outcome.
		if i := slices.IndexFunc(f.running, func(s tools.AuditEntry) bool { return sameCall(s, e) }); i >= 0 {
			f.running = slices.Delete(f.running, i, i+1)
		}
		if e.Error != "" {
			f.failed = append(f.failed, e)
		}
	}
}

func sameCall(a, b tools.AuditEntry) bool {
	return a.Tool == b.Tool && a.Preview == b.Preview && string(a.Args) == string(b.Args)
}

// Running returns the mutations started and not finished.
func (f *InFlight) Running() []tools.AuditEntry {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.running)
}

// Unsettled returns the mutations that may have changed part of what they
// meant to: still running, or finished with an error.
func (f *InFlight) Unsettled() []tools.AuditEntry {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Concat(f.running, f.failed)
}

// Describe says, on one line, what mutation e changes: "scale_workload on
// deployment/backend in todo". Values from the cluster or a model are made
// safe to print.
func Describe(e tools.AuditEntry) string {
	what := termsafe.Line(e.Tool)
	if len(e.Targets) > 0 {
		what += " on " + termsafe.Line(e.Targets[0].String())
		if n := len(e.Targets) - 1; n > 0 {
			what += fmt.Sprintf(" and %d more", n)
		}
	}
	return what
}

// RecoveryCommands are the commands that show the state an interrupted
// mutation left, quoted for pasting into a shell: the release's status and history for the Helm tools, the
// rollout status for workloads, the object itself otherwise.
func RecoveryCommands(e tools.AuditEntry) []string {
	var a struct {
		Release   string `json:"release"`
		Namespace string `json:"namespace"`
	}
	_ = json.Unmarshal(e.Args, &a) // best effort: the targets still say what changed
	if strings.HasPrefix(e.Tool, "helm_") {
		// A cancelled Helm action can leave the release pending or
		// failed; its status says which, its history what to roll back to.
		ns := a.Namespace
		if ns == "" && len(e.Targets) > 0 {
			ns = e.Targets[0].Namespace
		}
		status, history := []string{"opsagent", "status"}, []string{"opsagent", "history"}
		if a.Release != "" {
			status, history = append(status, a.Release), append(history, a.Release)
		}
		if ns != "" {
			status, history = append(status, "-n", ns), append(history, "-n", ns)
		}
		return []string{termsafe.Command(status...), termsafe.Command(history...)}
	}
	var cmds []string
	for _, t := range e.Targets {
		if len(cmds) == maxRecoveryCommands {
			break
		}
		cmds = append(cmds, recoveryCommand(t))
	}
	return cmds
}

// maxRecoveryCommands keeps the advice to a line; a drain's pods are
// summed up by its node.
const maxRecoveryCommands = 2

func recoveryCommand(t tools.Target) string {
	kind := strings.ToLower(t.Kind)
	var args []string
	switch kind {
	case "deployment", "statefulset", "daemonset":
		args = []string{"kubectl", "rollout", "status", kind + "/" + t.Name}
	default:
		args = []string{"kubectl", "get", kind, t.Name}
	}
	if t.Namespace != "" {
		args = append(args, "-n", t.Namespace)
	}
	return termsafe.Command(args...)
}

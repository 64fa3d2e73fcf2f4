package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ApprovalRequest is what an Approver is asked to decide on. The gate fills
// in everything an approver needs, so every surface (terminal, HTTP, MCP)
// judges the same facts.
type ApprovalRequest struct {
	Tool string
	// Args are the call's arguments as given. Show them through a masker:
	// they may hold secret-looking values.
	Args json.RawMessage
	// Risk is the effective risk: the tool's, raised by its preview.
	Risk    Risk
	Preview Preview
	// Privileged lists why the change needs the privileged opt-in: the
	// preview's reasons plus every cluster-scoped target.
	Privileged []string
	// Scope is what --yes covers, and OutOfScope the targets it does not.
	Scope      Scope
	OutOfScope []Target
}

// Approval is an Approver's decision. By records how it was given (for the
// audit log and the JSON output): "--yes", "terminal", ...
type Approval struct {
	Approved bool
	By       string
}

// Approver decides on one mutation at a time; each action is approved on its
// own. It returns ErrApprovalRequired when it cannot ask anyone.
type Approver interface {
	Approve(ctx context.Context, req ApprovalRequest) (Approval, error)
}

// Audit phases: a mutation is recorded as started before it runs and with
// its outcome afterwards, so a crash mid-run still leaves a trace.
const (
	AuditStarted = "started"
	AuditDone    = "done"
)

// AuditEntry is one executed or failed mutation.
type AuditEntry struct {
	Time       time.Time       `json:"time"`
	Phase      string          `json:"phase"`
	Tool       string          `json:"tool"`
	Args       json.RawMessage `json:"args"`
	Risk       Risk            `json:"risk"`
	Privileged []string        `json:"privileged,omitempty"`
	Targets    []Target        `json:"targets,omitempty"`
	Preview    string          `json:"preview"`
	ApprovedBy string          `json:"approvedBy"`
	Result     any             `json:"result,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// AuditSink records mutations. Implementations add the kube context and
// namespace they were built for.
type AuditSink interface {
	// Check says whether records can be written. The gate calls it before
	// asking for approval, so nobody approves a change that cannot be audited.
	Check() error
	Record(ctx context.Context, e AuditEntry) error
}

// Record is the outcome of one call through the Gate, shaped for JSON output
// and for feeding back to a model.
type Record struct {
	Tool string `json:"tool"`
	// Args are the call's arguments, with secret-looking values masked when
	// the gate has a Mask.
	Args       json.RawMessage `json:"args"`
	Risk       Risk            `json:"risk"`
	Privileged []string        `json:"privileged,omitempty"`
	Preview    *Preview        `json:"preview,omitempty"`
	Approved   bool            `json:"approved"`
	ApprovedBy string          `json:"approvedBy,omitempty"`
	// NoChange: the live state already matched; nothing was run.
	NoChange bool   `json:"noChange,omitempty"`
	DryRun   bool   `json:"dryRun,omitempty"`
	Result   any    `json:"result,omitempty"`
	Error    string `json:"error,omitempty"`

	err error
}

// Err returns the error behind Record.Error, for errors.Is checks.
func (r *Record) Err() error { return r.err }

// Changed reports whether the call ran a mutation (even one that then
// failed: it may have changed something).
func (r *Record) Changed() bool {
	return r.Risk.Mutates() && r.Approved && !r.DryRun && !r.NoChange
}

func (r *Record) fail(err error) *Record {
	r.err = err
	r.Error = err.Error()
	return r
}

// maxReplans bounds how often a call is planned again after the object
// changed between approval and write.
const maxReplans = 2

// Gate is the single path by which any surface runs a tool: look it up,
// decode and validate the arguments, plan against the live state, ask for
// approval when the tool mutates, run, and audit.
type Gate struct {
	Registry *Registry
	Approver Approver
	// Scope is what the request may change when approved by --yes. The
	// zero Scope covers nothing.
	Scope Scope
	// DryRun plans and previews mutations but never runs them.
	DryRun bool
	// Audit, if set, receives every executed or failed mutation.
	Audit AuditSink
	// Mask, if set, hides secret-looking argument values in records and
	// audit entries (never in what the tool receives).
	Mask func(json.RawMessage) json.RawMessage
	// Observe, if set, is called with each record before it is returned
	// (progress output on a terminal).
	Observe func(*Record)
}

// Call runs one tool call and reports what happened. It never panics on bad
// input: unknown tools and invalid arguments come back as a Record whose
// error wraps ErrUnknownTool or ErrInvalidArgs, with nothing executed.
func (g *Gate) Call(ctx context.Context, name string, raw json.RawMessage) *Record {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	rec := g.call(ctx, name, raw)
	rec.Args = g.mask(raw)
	if g.Observe != nil {
		g.Observe(rec)
	}
	return rec
}

func (g *Gate) mask(raw json.RawMessage) json.RawMessage {
	if g.Mask == nil {
		return raw
	}
	return g.Mask(raw)
}

func (g *Gate) call(ctx context.Context, name string, raw json.RawMessage) *Record {
	rec := &Record{Tool: name}
	tool, err := g.Registry.Lookup(name)
	if err != nil {
		return rec.fail(err)
	}
	rec.Risk = tool.Risk()
	for attempt := 1; ; attempt++ {
		action, err := tool.Prepare(ctx, raw)
		if err != nil {
			return rec.fail(err)
		}
		if !tool.Risk().Mutates() {
			rec.Approved, rec.ApprovedBy = true, "read-only"
			res, err := action.Run(ctx)
			if err != nil {
				return rec.fail(fmt.Errorf("%s: %w", name, err))
			}
			rec.Result = res
			return rec
		}
		err = g.mutate(ctx, tool, raw, action, rec)
		if errors.Is(err, ErrConflict) && attempt < maxReplans {
			// The object moved after it was previewed: plan again against
			// the new state and ask again, rather than overwrite.
			*rec = Record{Tool: name, Risk: tool.Risk()}
			continue
		}
		if err != nil {
			return rec.fail(err)
		}
		return rec
	}
}

// mutate previews, approves, runs and audits one planned mutation.
func (g *Gate) mutate(ctx context.Context, tool Tool, raw json.RawMessage, action Action, rec *Record) error {
	name := tool.Name()
	preview := action.Preview()
	rec.Preview = &preview
	rec.Risk = max(tool.Risk(), preview.Risk)
	rec.Privileged = slices.Concat(preview.Privileged, g.Scope.clusterScopedReasons(preview.Targets))
	if preview.NoChange {
		rec.Approved, rec.ApprovedBy, rec.NoChange = true, "no change needed", true
		rec.Result = map[string]any{"changed": false, "message": preview.Summary}
		return nil
	}
	if g.DryRun {
		rec.DryRun = true
		rec.Result = map[string]any{"changed": false, "message": "dry run: nothing was changed"}
		return nil
	}
	if g.Approver == nil {
		return fmt.Errorf("%s: %w: no approver configured", name, ErrApprovalRequired)
	}
	if g.Audit != nil {
		if err := g.Audit.Check(); err != nil {
			return fmt.Errorf("%s: not asking for approval: the audit log cannot be written: %w", name, err)
		}
	}
	req := ApprovalRequest{
		Tool: name, Args: raw, Risk: rec.Risk, Preview: preview,
		Privileged: rec.Privileged, Scope: g.Scope, OutOfScope: g.Scope.outside(preview.Targets),
	}
	approval, err := g.Approver.Approve(ctx, req)
	if err != nil {
		return err
	}
	if !approval.Approved {
		return fmt.Errorf("%s: %w", name, ErrDeclined)
	}
	rec.Approved, rec.ApprovedBy = true, approval.By

	entry := AuditEntry{
		Tool: name, Args: g.mask(raw), Risk: rec.Risk, Privileged: rec.Privileged,
		Targets: preview.Targets, Preview: preview.Summary, ApprovedBy: approval.By,
	}
	if g.Audit != nil {
		entry.Time, entry.Phase = time.Now().UTC(), AuditStarted
		if err := g.Audit.Record(ctx, entry); err != nil {
			return fmt.Errorf("%s: not run: the audit log cannot be written: %w", name, err)
		}
	}
	res, runErr := action.Run(ctx)
	if runErr != nil {
		runErr = fmt.Errorf("%s: %w", name, runErr)
	}
	rec.Result = res
	if g.Audit != nil {
		entry.Time, entry.Phase, entry.Result = time.Now().UTC(), AuditDone, res
		if runErr != nil {
			entry.Error = runErr.Error()
		}
		if err := g.Audit.Record(ctx, entry); err != nil {
			// The change happened; losing its audit line must be visible.
			return errors.Join(runErr, fmt.Errorf("audit log: %w", err))
		}
	}
	return runErr
}

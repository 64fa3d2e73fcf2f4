package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ApprovalRequest is what an Approver is asked to decide on.
type ApprovalRequest struct {
	Tool    string
	Args    json.RawMessage
	Risk    Risk
	Preview Preview
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

// AuditEntry is one executed or failed mutation.
type AuditEntry struct {
	Time       time.Time       `json:"time"`
	Tool       string          `json:"tool"`
	Args       json.RawMessage `json:"args"`
	Risk       Risk            `json:"risk"`
	Preview    string          `json:"preview"`
	ApprovedBy string          `json:"approvedBy"`
	Result     any             `json:"result,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// AuditSink records mutations. Implementations add the kube context and
// namespace they were built for.
type AuditSink interface {
	Record(ctx context.Context, e AuditEntry) error
}

// Record is the outcome of one call through the Gate, shaped for JSON output
// and for feeding back to a model.
type Record struct {
	Tool       string          `json:"tool"`
	Args       json.RawMessage `json:"args"`
	Risk       Risk            `json:"risk"`
	Preview    *Preview        `json:"preview,omitempty"`
	Approved   bool            `json:"approved"`
	ApprovedBy string          `json:"approvedBy,omitempty"`
	DryRun     bool            `json:"dryRun,omitempty"`
	Result     any             `json:"result,omitempty"`
	Error      string          `json:"error,omitempty"`

	err error
}

// Err returns the error behind Record.Error, for errors.Is checks.
func (r *Record) Err() error { return r.err }

func (r *Record) fail(err error) *Record {
	r.err = err
	r.Error = err.Error()
	return r
}

// Gate is the single path by which any surface runs a tool: look it up,
// decode and validate the arguments, plan against the live state, ask for
// approval when the tool mutates, run, and audit.
type Gate struct {
	Registry *Registry
	Approver Approver
	// DryRun plans and previews mutations but never runs them.
	DryRun bool
	// Audit, if set, receives every executed or failed mutation.
	Audit AuditSink
	// Observe, if set, is called with each record before it is returned
	// (progress output on a terminal).
	Observe func(*Record)
}

// Call runs one tool call and reports what happened. It never panics on bad
// input: unknown tools and invalid arguments come back as a Record whose
// error wraps ErrUnknownTool or ErrInvalidArgs, with nothing executed.
func (g *Gate) Call(ctx context.Context, name string, raw json.RawMessage) *Record {
	rec := g.call(ctx, name, raw)
	if g.Observe != nil {
		g.Observe(rec)
	}
	return rec
}

func (g *Gate) call(ctx context.Context, name string, raw json.RawMessage) *Record {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	rec := &Record{Tool: name, Args: raw}
	tool, err := g.Registry.Lookup(name)
	if err != nil {
		return rec.fail(err)
	}
	rec.Risk = tool.Risk()
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

	preview := action.Preview()
	rec.Preview = &preview
	if preview.NoChange {
		rec.Approved, rec.ApprovedBy = true, "no change needed"
		rec.Result = map[string]any{"changed": false, "message": preview.Summary}
		return rec
	}
	if g.DryRun {
		rec.DryRun = true
		rec.Result = map[string]any{"changed": false, "message": "dry run: nothing was changed"}
		return rec
	}
	if g.Approver == nil {
		return rec.fail(fmt.Errorf("%s: %w: no approver configured", name, ErrApprovalRequired))
	}
	approval, err := g.Approver.Approve(ctx, ApprovalRequest{Tool: name, Args: raw, Risk: tool.Risk(), Preview: preview})
	if err != nil {
		return rec.fail(err)
	}
	if !approval.Approved {
		return rec.fail(fmt.Errorf("%s: %w", name, ErrDeclined))
	}
	rec.Approved, rec.ApprovedBy = true, approval.By

	res, runErr := action.Run(ctx)
	if runErr != nil {
		rec.fail(fmt.Errorf("%s: %w", name, runErr))
	} else {
		rec.Result = res
	}
	if g.Audit != nil {
		entry := AuditEntry{
			Time: time.Now().UTC(), Tool: name, Args: raw, Risk: tool.Risk(),
			Preview: preview.Summary, ApprovedBy: approval.By, Result: rec.Result, Error: rec.Error,
		}
		if err := g.Audit.Record(ctx, entry); err != nil {
			// The change happened; losing its audit line must be visible.
			auditErr := fmt.Errorf("audit log: %w", err)
			if rec.err != nil {
				return rec.fail(errors.Join(rec.err, auditErr))
			}
			return rec.fail(auditErr)
		}
	}
	return rec
}

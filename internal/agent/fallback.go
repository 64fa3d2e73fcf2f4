package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opsagent/opsagent/internal/tools"
)

// runPlan answers the request with the deterministic planner: its calls run
// in order and the first failure stops the plan.
func (a *Agent) runPlan(ctx context.Context, run *Run) {
	plan, err := a.cfg.Planner.Plan(run.Request)
	if err != nil {
		run.fail(err)
		run.Answer = "Nothing was done: the request could not be mapped onto a tool."
		return
	}
	for _, c := range plan.Calls {
		rec := a.call(ctx, c.Tool, c.Args)
		run.Actions = append(run.Actions, rec)
		if err := rec.Err(); err != nil {
			run.fail(err)
			break
		}
	}
	run.Answer = Summarize(run.Actions)
}

// Summarize describes records in a few lines: the answer of a fallback run.
func Summarize(recs []*tools.Record) string {
	if len(recs) == 0 {
		return "Nothing was done."
	}
	lines := make([]string, 0, len(recs))
	for _, r := range recs {
		lines = append(lines, summarizeOne(r))
	}
	return strings.Join(lines, "\n")
}

func summarizeOne(r *tools.Record) string {
	what := r.Tool
	if r.Preview != nil && r.Preview.Summary != "" {
		what = r.Preview.Summary
	}
	err := r.Err()
	switch {
	case err != nil && (errors.Is(err, tools.ErrApprovalRequired) || errors.Is(err, tools.ErrDeclined)):
		return fmt.Sprintf("Not done: %v.", err)
	case err != nil:
		return fmt.Sprintf("Failed: %s: %v", r.Tool, err)
	case !r.Risk.Mutates():
		return fmt.Sprintf("Ran %s (read-only).", r.Tool)
	case r.DryRun:
		return fmt.Sprintf("Dry run: would change %s; nothing was changed.", what)
	case r.Preview != nil && r.Preview.NoChange:
		return fmt.Sprintf("Nothing to change: %s.", what)
	}
	return fmt.Sprintf("Done: %s (approved by %s).", what, r.ApprovedBy)
}

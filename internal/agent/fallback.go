package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/tools"
)

// runPlan answers the request with the deterministic planner (no model is
// configured): its calls run in order and the first failure stops the plan.
func (a *Agent) runPlan(ctx context.Context, run *Run) {
	plan, err := a.cfg.Planner.Plan(run.Request)
	if err != nil {
		run.fail(err)
		run.Answer = "Nothing was done: the request could not be mapped onto a tool."
		return
	}
	a.runCalls(ctx, run, plan)
}

// runFallback answers with the planner after the model endpoint failed
// with modelErr. The request was written for a model, so the planner may
// only make a change it maps exactly: a plan that would change the cluster
// but left content words of the request unused ("restart the backend if the
// error rate is up") is refused, saying what was understood. Reads and
// questions are answered as usual.
func (a *Agent) runFallback(ctx context.Context, run *Run, modelErr error) {
	plan, err := a.cfg.Planner.Plan(run.Request)
	if err != nil {
		run.fail(&FallbackError{ModelErr: modelErr, PlanErr: err})
		run.Answer = "Nothing was done: the model endpoint failed and the planner could not map the request onto a tool."
		return
	}
	if a.cfg.Planner.Mutates(plan) && !plan.Exact() {
		run.fail(&FallbackError{ModelErr: modelErr, Plan: &plan})
		run.Answer = "Nothing was done: the model endpoint failed, and the planner makes a change in its place only when it maps every word of the request."
		return
	}
	a.runCalls(ctx, run, plan)
}

// FallbackError is why the planner did not answer for a failed model.
type FallbackError struct {
	// ModelErr is the model endpoint's failure.
	ModelErr error
	// PlanErr is the planner's error, when it could not map the request
	// (an *planner.UnmappedError: bad input).
	PlanErr error
	// Plan is what the planner understood, when it was refused because the
	// plan would change the cluster without using every word of the request.
	Plan *planner.Plan
}

func (e *FallbackError) Error() string {
	if e.PlanErr != nil {
		return fmt.Sprintf("%v, and the planner could not map the request instead: %v", e.ModelErr, e.PlanErr)
	}
	return fmt.Sprintf("%v, and the request is not one the planner can safely map: it understood %s "+
		"but not %s, so it made no change. Retry when the endpoint is back, or say only the change (opsagent --no-llm shows the phrasings it knows)",
		e.ModelErr, e.Plan, quoteAll(e.Plan.Ignored))
}

// Unwrap gives errors.Is/As both the model's and the planner's error.
func (e *FallbackError) Unwrap() []error {
	if e.PlanErr != nil {
		return []error{e.ModelErr, e.PlanErr}
	}
	return []error{e.ModelErr}
}

func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return strings.Join(q, ", ")
}

// runCalls runs plan's calls in order; the first failure stops the plan.
func (a *Agent) runCalls(ctx context.Context, run *Run, plan planner.Plan) {
	for _, c := range plan.Calls {
		rec := a.call(ctx, c.Tool, c.Args)
		run.Actions = append(run.Actions, rec)
		if err := rec.Err(); err != nil {
			run.fail(err)
			break
		}
	}
	run.Answer = Summarize(run.Actions)
	if plan.Note != "" {
		run.Answer += "\n" + plan.Note
	}
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

package releasetools

import (
	"context"
	"fmt"
	"slices"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
)

// RollbackArgs are helm_rollback's arguments.
type RollbackArgs struct {
	Release        string `json:"release,omitempty" description:"Release name (default todo-chatbot)"`
	Revision       int    `json:"revision,omitempty" description:"Revision to restore (see helm_history); 0 or left out: the last revision before the current one that deployed successfully"`
	Namespace      string `json:"namespace,omitempty" description:"Namespace; defaults to the current namespace"`
	Wait           *bool  `json:"wait,omitempty" description:"Wait until the restored workloads are ready (default true)"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" description:"How long to wait at most (default 300, max 3600)"`
}

// Validate implements tools.Validator.
func (a RollbackArgs) Validate() error {
	if err := checkRelease(a.Release); err != nil {
		return err
	}
	if err := checkNamespace(a.Namespace); err != nil {
		return err
	}
	if a.Revision < 0 {
		return fmt.Errorf("revision must be 0 (the previous good one) or a revision number, got %d", a.Revision)
	}
	return checkTimeout(a.TimeoutSeconds)
}

// Rollback declares helm_rollback.
func Rollback(d Deps) tools.Tool {
	return tools.Define(NameRollback,
		"Roll a Helm release back to an earlier revision's chart and values, as a new revision. Without a revision, restores the last one before the current that deployed successfully. Also clears a release stuck pending after an interrupted deploy.",
		tools.Write,
		func(ctx context.Context, a RollbackArgs) (tools.Action, error) { return prepareRollback(ctx, d, a) })
}

func prepareRollback(ctx context.Context, d Deps, a RollbackArgs) (tools.Action, error) {
	c, err := d.client(a.Namespace)
	if err != nil {
		return nil, err
	}
	name := releaseOrDefault(a.Release)
	hist, err := c.History(ctx, name)
	if err != nil {
		return nil, classify(err)
	}
	if len(hist) == 0 {
		return nil, fmt.Errorf("%w: release %q in %s has no revisions", tools.ErrNotFound, name, c.Namespace())
	}
	current := hist[len(hist)-1]
	target, err := rollbackTarget(hist, current.Revision, a.Revision)
	if err != nil {
		return nil, fmt.Errorf("%w: release %q in %s: %v", tools.ErrNotFound, name, c.Namespace(), err)
	}
	plan := tools.Preview{Summary: fmt.Sprintf("release %s in %s: revision %d → %d (restores revision %d's chart and values as revision %d)",
		name, c.Namespace(), current.Revision, target.Revision, target.Revision, current.Revision+1)}
	plan.Diff = fmt.Sprintf("current:  revision %d, %s, %s (%s)\nrestored: revision %d, %s, %s (%s)",
		current.Revision, current.Status, current.Chart, current.Description,
		target.Revision, target.Status, target.Chart, target.Description)
	apply := func(ctx context.Context) (any, error) {
		c, err := d.client(a.Namespace)
		if err != nil {
			return nil, err
		}
		if err := checkUnchanged(ctx, c, name, current.Revision); err != nil {
			return nil, err
		}
		res, err := c.Rollback(ctx, name, release.RollbackOptions{
			Revision: target.Revision, Wait: boolOr(a.Wait, true), Timeout: timeoutFor(a.TimeoutSeconds),
		})
		return res, classify(err)
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// rollbackTarget checks the wanted revision, or picks the newest earlier one
// that deployed successfully when want is 0 (release.Client.Rollback's rule).
func rollbackTarget(hist []release.Release, current, want int) (release.Release, error) {
	if want > 0 {
		i := slices.IndexFunc(hist, func(r release.Release) bool { return r.Revision == want })
		if i < 0 {
			return release.Release{}, fmt.Errorf("revision %d does not exist; the release has revisions %s", want, revisionList(hist))
		}
		if want == current {
			return release.Release{}, fmt.Errorf("revision %d is the current one; name an earlier revision (%s)", want, revisionList(hist))
		}
		return hist[i], nil
	}
	var best *release.Release
	for i, r := range hist {
		ok := r.Status == "superseded" || r.Status == "deployed"
		if r.Revision < current && ok && (best == nil || r.Revision > best.Revision) {
			best = &hist[i]
		}
	}
	if best == nil {
		return release.Release{}, fmt.Errorf("no revision before %d was deployed successfully; the release has revisions %s", current, revisionList(hist))
	}
	return *best, nil
}

func revisionList(hist []release.Release) string {
	s := ""
	for i, r := range hist {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(r.Revision)
	}
	return s
}

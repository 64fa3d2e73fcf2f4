package release

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	helmrelease "helm.sh/helm/v3/pkg/release"
)

// RollbackOptions configure Rollback.
type RollbackOptions struct {
	// Revision is the revision whose chart and values to restore. 0 means the
	// newest earlier revision that was deployed successfully (see
	// RollbackTarget).
	Revision int
	// Wait blocks until the restored workloads are ready.
	Wait bool
	// Timeout bounds the wait; DefaultTimeout when zero. A deadline on ctx
	// that comes sooner wins.
	Timeout time.Duration
}

// RollbackResult is the outcome of Rollback.
type RollbackResult struct {
	// Release is the new revision the rollback created.
	Release Release `json:"release"`
	// FromRevision was current before the rollback.
	FromRevision int `json:"fromRevision"`
	// ToRevision is the revision whose chart and values were restored.
	ToRevision int `json:"toRevision"`
}

// Rollback restores an earlier revision of the release as a new revision.
// It also clears a release stuck in a pending state by an interrupted deploy.
func (c *Client) Rollback(ctx context.Context, name string, opts RollbackOptions) (*RollbackResult, error) {
	name = releaseName(name)
	const op = "roll back"
	if err := c.ready(ctx); err != nil {
		return nil, c.fail(op, name, err)
	}
	current, target, err := c.rollbackRevisions(name, opts.Revision)
	if err != nil {
		return nil, c.fail(op, name, err)
	}

	// The wait ends with ctx (cancel.go); Helm then marks the new
	// revision failed.
	rb := action.NewRollback(c.actionConfig(ctx))
	rb.Version = target.Version
	rb.Wait = opts.Wait
	rb.Timeout = timeout(ctx, opts.Timeout)
	rb.MaxHistory = maxHistory
	if err := rb.Run(name); err != nil {
		return nil, c.fail(op, name, err)
	}
	rel, err := c.lastRevision(name)
	if err != nil || rel == nil {
		return nil, c.fail(op, name, fmt.Errorf("read the new revision: %w", err))
	}
	return &RollbackResult{Release: summarise(rel), FromRevision: current.Version, ToRevision: target.Version}, nil
}

// RollbackPreview is what Rollback would do, computed without changing
// anything.
type RollbackPreview struct {
	// Current is the newest revision, Target the one whose chart and values
	// the rollback restores as revision NextRevision.
	Current      Release `json:"current"`
	Target       Release `json:"target"`
	NextRevision int     `json:"nextRevision"`
	// Removed are the objects of the current revision that the target's
	// manifest lacks: the rollback deletes them.
	Removed []Object `json:"removed,omitempty"`
	// Resources are the target revision's objects and hooks, which the
	// rollback applies again, and the Removed ones (marked Deleted).
	Resources []Resource `json:"-"`
}

// PreviewRollback computes what Rollback with the same revision would do.
func (c *Client) PreviewRollback(ctx context.Context, name string, revision int) (*RollbackPreview, error) {
	name = releaseName(name)
	const op = "preview rollback of"
	if err := c.ready(ctx); err != nil {
		return nil, c.fail(op, name, err)
	}
	current, target, err := c.rollbackRevisions(name, revision)
	if err != nil {
		return nil, c.fail(op, name, err)
	}
	p := &RollbackPreview{Current: summarise(current), Target: summarise(target), NextRevision: current.Version + 1}
	if p.Resources, err = c.resourcesOf(target.Manifest, target.Hooks); err != nil {
		return nil, c.fail(op, name, err)
	}
	removed, err := c.deletedResources(current, target)
	if err != nil {
		return nil, c.fail(op, name, err)
	}
	p.Removed = objectsIn(removed)
	p.Resources = append(p.Resources, removed...)
	return p, nil
}

// rollbackRevisions returns the release's newest revision and the one a
// rollback to want (0: the default, see RollbackTarget) restores.
func (c *Client) rollbackRevisions(name string, want int) (current, target *helmrelease.Release, err error) {
	if want < 0 {
		return nil, nil, c.failKind("roll back", name, ErrRevisionNotFound,
			fmt.Errorf("revision %d is negative", want), hintHistory)
	}
	hist, err := action.NewHistory(c.cfg).Run(name)
	if err != nil {
		return nil, nil, err
	}
	current = slices.MaxFunc(hist, func(a, b *helmrelease.Release) int { return a.Version - b.Version })
	summaries := make([]Release, len(hist))
	for i, r := range hist {
		summaries[i] = summarise(r)
	}
	t, err := RollbackTarget(summaries, current.Version, want)
	if err != nil {
		return nil, nil, c.failKind("roll back", name, ErrRevisionNotFound, err, hintHistory)
	}
	i := slices.IndexFunc(hist, func(r *helmrelease.Release) bool { return r.Version == t.Revision })
	return current, hist[i], nil
}

// RollbackTarget is the rule for which revision a rollback restores: want
// when it names an existing revision other than the current one, and for
// want 0 the newest revision before current that was deployed successfully
// (superseded or deployed). That is not always helm's "previous" (current -
// 1): after an atomic upgrade failed and was rolled back, current - 1 is the
// failed revision.
func RollbackTarget(hist []Release, current, want int) (Release, error) {
	if want > 0 {
		i := slices.IndexFunc(hist, func(r Release) bool { return r.Revision == want })
		if i < 0 {
			return Release{}, fmt.Errorf("revision %d does not exist; the release has revisions %s", want, revisions(hist))
		}
		if want == current {
			return Release{}, fmt.Errorf("revision %d is the current one; name an earlier revision (%s)", want, revisions(hist))
		}
		return hist[i], nil
	}
	var best *Release
	for i, r := range hist {
		ok := r.Status == helmrelease.StatusSuperseded.String() || r.Status == helmrelease.StatusDeployed.String()
		if r.Revision < current && ok && (best == nil || r.Revision > best.Revision) {
			best = &hist[i]
		}
	}
	if best == nil {
		return Release{}, fmt.Errorf("no revision before %d was deployed successfully; the release has revisions %s", current, revisions(hist))
	}
	return *best, nil
}

// revisions formats the revision numbers of hist: "1, 2, 3".
func revisions(hist []Release) string {
	nums := make([]int, 0, len(hist))
	for _, r := range hist {
		nums = append(nums, r.Revision)
	}
	slices.Sort(nums)
	strs := make([]string, len(nums))
	for i, n := range nums {
		strs[i] = strconv.Itoa(n)
	}
	return strings.Join(strs, ", ")
}

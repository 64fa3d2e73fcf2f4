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
	// newest earlier revision that was deployed successfully. That is not
	// always helm's "previous" (current - 1): after an atomic upgrade failed
	// and was rolled back, current - 1 is the failed revision.
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
	if opts.Revision < 0 {
		return nil, c.failKind(op, name, ErrRevisionNotFound,
			fmt.Errorf("revision %d is negative", opts.Revision), hintHistory)
	}
	hist, err := action.NewHistory(c.cfg).Run(name)
	if err != nil {
		return nil, c.fail(op, name, err)
	}
	current := slices.MaxFunc(hist, func(a, b *helmrelease.Release) int { return a.Version - b.Version })
	target, err := rollbackTarget(hist, current.Version, opts.Revision)
	if err != nil {
		return nil, c.failKind(op, name, ErrRevisionNotFound, err, hintHistory)
	}

	rb := action.NewRollback(c.cfg)
	rb.Version = target
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
	return &RollbackResult{Release: summarise(rel), FromRevision: current.Version, ToRevision: target}, nil
}

// rollbackTarget checks the wanted revision, or picks one when want is 0.
func rollbackTarget(hist []*helmrelease.Release, current, want int) (int, error) {
	if want > 0 {
		if !slices.ContainsFunc(hist, func(r *helmrelease.Release) bool { return r.Version == want }) {
			return 0, fmt.Errorf("revision %d does not exist; the release has revisions %s", want, revisions(hist))
		}
		return want, nil
	}
	best := 0
	for _, r := range hist {
		ok := r.Info.Status == helmrelease.StatusSuperseded || r.Info.Status == helmrelease.StatusDeployed
		if r.Version < current && ok && r.Version > best {
			best = r.Version
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("no revision before %d was deployed successfully; the release has revisions %s", current, revisions(hist))
	}
	return best, nil
}

// revisions formats the revision numbers of hist: "1, 2, 3".
func revisions(hist []*helmrelease.Release) string {
	nums := make([]int, 0, len(hist))
	for _, r := range hist {
		nums = append(nums, r.Version)
	}
	slices.Sort(nums)
	strs := make([]string, len(nums))
	for i, n := range nums {
		strs[i] = strconv.Itoa(n)
	}
	return strings.Join(strs, ", ")
}

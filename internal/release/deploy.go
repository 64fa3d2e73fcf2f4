package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// DeployOptions configure Deploy. The zero value deploys the embedded Todo
// Chatbot chart with its default values as release "todo-chatbot".
type DeployOptions struct {
	// ReleaseName defaults to DefaultReleaseName.
	ReleaseName string
	// Chart defaults to the embedded Todo Chatbot chart.
	Chart *chart.Chart
	// Values are the user's values. An upgrade given none reuses the last
	// revision's values, as helm does.
	Values Values
	// ReuseValues merges the last revision's user values under Values on an
	// upgrade (helm --reset-then-reuse-values), so that e.g. a --set of one
	// value does not drop the others given at install time.
	ReuseValues bool
	// Atomic undoes a failed deploy: a failed upgrade is rolled back, a failed
	// first install is uninstalled. Implies Wait.
	Atomic bool
	// Wait blocks until the workloads are ready or Timeout passes.
	Wait bool
	// Timeout bounds the wait; DefaultTimeout when zero. A deadline on ctx
	// that comes sooner wins.
	Timeout time.Duration
	// CreateNamespace creates the Client's namespace on install if missing.
	CreateNamespace bool
	// DryRun renders and validates against the cluster (server-side) and
	// changes nothing.
	DryRun bool
}

// DeployResult is the outcome of Deploy.
type DeployResult struct {
	Action  Action  `json:"action"`
	DryRun  bool    `json:"dryRun,omitempty"`
	Release Release `json:"release"`
	// Objects are the objects of the deployed (or, on a dry run, rendered)
	// revision, in install order. Hooks such as `helm test` pods are not listed.
	Objects []Object `json:"objects"`
	// Notes is the chart's rendered NOTES.txt.
	Notes string `json:"notes,omitempty"`
}

// Deploy installs the release when it does not exist and upgrades it
// otherwise (helm upgrade --install). Cancelling ctx makes Deploy return at
// once and ends its wait (cancel.go): Helm marks the revision failed and,
// with Atomic, rolls back without waiting for the rollback to be ready.
// Objects already applied stay applied.
func (c *Client) Deploy(ctx context.Context, opts DeployOptions) (*DeployResult, error) {
	name := releaseName(opts.ReleaseName)
	const op = "deploy"
	if err := c.ready(ctx); err != nil {
		return nil, c.fail(op, name, err)
	}
	ch, vals, err := c.prepare(opts.Chart, opts.Values)
	if err != nil {
		return nil, c.failKind(op, name, ErrInvalidValues, err, hintValues)
	}
	last, err := c.lastRevision(name)
	if err != nil {
		return nil, c.fail(op, name, err)
	}

	var rel *helmrelease.Release
	act := ActionUpgrade
	if last == nil || last.Info.Status == helmrelease.StatusUninstalled {
		act = ActionInstall
		inst := c.newInstall(c.actionConfig(ctx), name, opts.DryRun)
		inst.Atomic = opts.Atomic
		inst.Wait = opts.Wait || opts.Atomic
		inst.Timeout = timeout(ctx, opts.Timeout)
		inst.CreateNamespace = opts.CreateNamespace
		// An uninstalled release whose history was kept: reuse its name.
		inst.Replace = last != nil
		rel, err = inst.RunWithContext(ctx, ch, vals)
	} else {
		up := c.newUpgrade(c.actionConfig(ctx), opts.DryRun, opts.ReuseValues)
		up.Atomic = opts.Atomic
		up.Wait = opts.Wait || opts.Atomic
		up.Timeout = timeout(ctx, opts.Timeout)
		rel, err = up.RunWithContext(ctx, name, ch, vals)
	}
	if err != nil {
		return nil, c.fail(string(act), name, err)
	}
	objects, err := objectsOf(rel.Manifest)
	if err != nil {
		return nil, c.fail(string(act), name, err)
	}
	res := &DeployResult{Action: act, DryRun: opts.DryRun, Release: summarise(rel), Objects: objects}
	if rel.Info != nil {
		res.Notes = rel.Info.Notes
	}
	return res, nil
}

// newInstall builds an install action. Dry runs go to the server so that the
// chart's lookup of existing Secrets works and objects are validated by the
// API server, and nothing is created.
func (c *Client) newInstall(cfg *action.Configuration, name string, dryRun bool) *action.Install {
	inst := action.NewInstall(cfg)
	inst.ReleaseName = name
	inst.Namespace = c.namespace
	if dryRun {
		inst.DryRun = true
		inst.DryRunOption = "server"
	}
	return inst
}

// newUpgrade builds an upgrade action; see newInstall for dry runs.
func (c *Client) newUpgrade(cfg *action.Configuration, dryRun, reuseValues bool) *action.Upgrade {
	up := action.NewUpgrade(cfg)
	up.Namespace = c.namespace
	up.Install = true
	up.MaxHistory = maxHistory
	up.ResetThenReuseValues = reuseValues
	if dryRun {
		up.DryRun = true
		up.DryRunOption = "server"
	}
	return up
}

// ready checks the context and that the cluster answers, so that later
// failures are not misreported (Helm's storage calls would fail first with a
// bare connection error).
func (c *Client) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.cfg.KubeClient.IsReachable()
}

// prepare resolves the chart and merges the values.
func (c *Client) prepare(ch *chart.Chart, v Values) (*chart.Chart, map[string]any, error) {
	ch, err := c.chartOrDefault(ch)
	if err != nil {
		return nil, nil, err
	}
	vals, err := v.merge()
	if err != nil {
		return nil, nil, err
	}
	return ch, vals, nil
}

// lastRevision returns the newest revision of the release, or nil when the
// release does not exist.
func (c *Client) lastRevision(name string) (*helmrelease.Release, error) {
	hist, err := c.cfg.Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(hist) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read release history: %w", err)
	}
	return slices.MaxFunc(hist, func(a, b *helmrelease.Release) int { return a.Version - b.Version }), nil
}

package release

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// UninstallOptions configure Uninstall.
type UninstallOptions struct {
	// Wait blocks until the removed objects are gone.
	Wait bool
	// Timeout bounds the wait and the delete hooks; DefaultTimeout when zero.
	// A deadline on ctx that comes sooner wins.
	Timeout time.Duration
	// DryRun reports what would be removed and kept, and changes nothing.
	DryRun bool
}

// KeptObject is an object Uninstall leaves in the cluster, and why.
type KeptObject struct {
	Object
	Reason string `json:"reason"`
}

// UninstallResult is the outcome of Uninstall.
type UninstallResult struct {
	// Release is the revision that was live before the uninstall.
	Release Release `json:"release"`
	DryRun  bool    `json:"dryRun,omitempty"`
	// Removed are the objects deleted with the release, with their
	// namespaces resolved ("" for cluster-scoped objects).
	Removed []Object `json:"removed"`
	// Kept are objects left in place, such as the database's
	// PersistentVolumeClaim, so that the data survives.
	Kept []KeptObject `json:"kept,omitempty"`
	// Resources are the Removed objects with their content, for judging.
	Resources []Resource `json:"-"`
}

// keepReason explains objects kept by Helm's resource policy.
var keepReason = fmt.Sprintf("annotated %s: %s, so Helm leaves it in place", kube.ResourcePolicyAnno, kube.KeepPolicy)

// Uninstall removes the release and its history. Objects annotated
// helm.sh/resource-policy: keep stay, and are reported as kept.
func (c *Client) Uninstall(ctx context.Context, name string, opts UninstallOptions) (*UninstallResult, error) {
	name = releaseName(name)
	const op = "uninstall"
	if err := c.ready(ctx); err != nil {
		return nil, c.fail(op, name, err)
	}
	last, err := c.lastRevision(name)
	if err != nil {
		return nil, c.fail(op, name, err)
	}
	if last == nil {
		return nil, c.failKind(op, name, ErrReleaseNotFound, driver.ErrReleaseNotFound,
			hintWhichRelease)
	}
	// Helm deletes what the newest revision's manifest lists, so that is
	// what the report is built from.
	objs, err := parseManifest(last.Manifest)
	if err != nil {
		return nil, c.fail(op, name, err)
	}
	rs, err := c.resolve(objs, false, true)
	if err != nil {
		return nil, c.fail(op, name, err)
	}
	res := &UninstallResult{Release: summarise(last), DryRun: opts.DryRun, Removed: []Object{}}
	for i, o := range objs {
		if o.Keep {
			res.Kept = append(res.Kept, KeptObject{Object: rs[i].Object, Reason: keepReason})
		} else {
			res.Removed = append(res.Removed, rs[i].Object)
			res.Resources = append(res.Resources, rs[i])
		}
	}
	if opts.DryRun {
		return res, nil
	}

	// The wait ends with ctx (cancel.go); Helm then purges the release
	// records anyway, and the deletions it sent go on in the cluster.
	un := action.NewUninstall(c.actionConfig(ctx))
	un.Wait = opts.Wait
	un.Timeout = timeout(ctx, opts.Timeout)
	un.DeletionPropagation = "background"
	if _, err := un.Run(name); err != nil {
		return nil, c.fail(op, name, err)
	}
	return res, nil
}

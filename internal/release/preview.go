package release

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// PreviewOptions configure Preview; they mean what the fields of the same
// name in DeployOptions mean, so a preview shows what that deploy would do.
type PreviewOptions struct {
	ReleaseName string
	Chart       *chart.Chart
	Values      Values
	ReuseValues bool
}

// PreviewOptions returns the options that preview this deploy.
func (o DeployOptions) PreviewOptions() PreviewOptions {
	return PreviewOptions{ReleaseName: o.ReleaseName, Chart: o.Chart, Values: o.Values, ReuseValues: o.ReuseValues}
}

// ChangeOp is what a deploy does to one object.
type ChangeOp string

const (
	OpCreate ChangeOp = "create"
	OpUpdate ChangeOp = "update"
	OpDelete ChangeOp = "delete"
)

// Change is one object a deploy would create, update or delete.
type Change struct {
	Object
	Op ChangeOp `json:"op"`
	// Diff is a unified diff of the object's manifest, from the live
	// revision to the proposed one, with Secret values redacted. It is empty
	// when installing, where every object is new.
	Diff string `json:"diff,omitempty"`
}

// Preview is what a deploy would change, computed without changing anything,
// for a confirmation gate.
type Preview struct {
	Action    Action `json:"action"`
	Release   string `json:"release"`
	Namespace string `json:"namespace"`
	// CurrentRevision is the live revision the upgrade starts from; 0 for an
	// install.
	CurrentRevision int `json:"currentRevision,omitempty"`
	// NextRevision is the revision the deploy would create.
	NextRevision int `json:"nextRevision"`
	// Changes lists created and updated objects in install order, then
	// deleted ones. Unchanged objects are left out.
	Changes []Change `json:"changes"`
	// Unchanged counts the objects the upgrade leaves as they are.
	Unchanged int `json:"unchanged"`
}

// HasChanges reports whether the deploy would change any object.
func (p *Preview) HasChanges() bool { return len(p.Changes) > 0 }

// Count returns how many changes of kind op the preview holds.
func (p *Preview) Count(op ChangeOp) int {
	n := 0
	for _, c := range p.Changes {
		if c.Op == op {
			n++
		}
	}
	return n
}

// String renders the preview for a terminal: a summary line, then one line
// per changed object followed by its diff.
func (p *Preview) String() string {
	var b strings.Builder
	if p.Action == ActionInstall {
		fmt.Fprintf(&b, "Install release %q in namespace %q (revision %d): %d objects to create.\n",
			p.Release, p.Namespace, p.NextRevision, p.Count(OpCreate))
	} else {
		fmt.Fprintf(&b, "Upgrade release %q in namespace %q from revision %d to %d: %d to create, %d to update, %d to delete, %d unchanged.\n",
			p.Release, p.Namespace, p.CurrentRevision, p.NextRevision,
			p.Count(OpCreate), p.Count(OpUpdate), p.Count(OpDelete), p.Unchanged)
	}
	marks := map[ChangeOp]string{OpCreate: "+", OpUpdate: "~", OpDelete: "-"}
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "  %s %s\n", marks[c.Op], c.Object)
		if c.Diff != "" {
			b.WriteString(c.Diff)
		}
	}
	return b.String()
}

// Preview computes what Deploy with the same options would change: for a new
// release the objects it would create, for an existing one a per-object
// diff between the live revision's manifest and a server-side dry-run
// upgrade's. Nothing in the cluster changes.
func (c *Client) Preview(ctx context.Context, opts PreviewOptions) (*Preview, error) {
	name := releaseName(opts.ReleaseName)
	const op = "preview"
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
	if last == nil || last.Info.Status == helmrelease.StatusUninstalled {
		rel, err := c.newInstall(name, true).RunWithContext(ctx, ch, vals)
		if err != nil {
			return nil, c.fail(op+" install of", name, err)
		}
		objs, err := objectsOf(rel.Manifest)
		if err != nil {
			return nil, c.fail(op+" install of", name, err)
		}
		p := &Preview{Action: ActionInstall, Release: name, Namespace: c.namespace, NextRevision: 1}
		if last != nil {
			p.NextRevision = last.Version + 1
		}
		for _, o := range objs {
			p.Changes = append(p.Changes, Change{Object: o, Op: OpCreate})
		}
		return p, nil
	}

	current, err := c.liveRevision(name, last)
	if err != nil {
		return nil, c.fail(op+" upgrade of", name, err)
	}
	proposed, err := c.newUpgrade(true, opts.ReuseValues).RunWithContext(ctx, name, ch, vals)
	if err != nil {
		return nil, c.fail(op+" upgrade of", name, err)
	}
	p := &Preview{Action: ActionUpgrade, Release: name, Namespace: c.namespace,
		CurrentRevision: current.Version, NextRevision: proposed.Version}
	if err := p.diff(current, proposed); err != nil {
		return nil, c.fail(op+" upgrade of", name, err)
	}
	return p, nil
}

// liveRevision is the revision an upgrade starts from, chosen as Helm's
// upgrade chooses it: the deployed one, else the last one if it failed.
func (c *Client) liveRevision(name string, last *helmrelease.Release) (*helmrelease.Release, error) {
	if last.Info.Status == helmrelease.StatusDeployed {
		return last, nil
	}
	rel, err := c.cfg.Releases.Deployed(name)
	if errors.Is(err, driver.ErrNoDeployedReleases) {
		return last, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find the deployed revision: %w", err)
	}
	return rel, nil
}

// diff fills p.Changes and p.Unchanged from two revisions' manifests.
func (p *Preview) diff(current, proposed *helmrelease.Release) error {
	oldObjs, err := parseManifest(current.Manifest)
	if err != nil {
		return fmt.Errorf("revision %d: %w", current.Version, err)
	}
	newObjs, err := parseManifest(proposed.Manifest)
	if err != nil {
		return fmt.Errorf("proposed revision %d: %w", proposed.Version, err)
	}
	oldByKey := make(map[string]manifestObject, len(oldObjs))
	for _, o := range oldObjs {
		oldByKey[o.key()] = o
	}
	fromLabel := func(o Object) string { return fmt.Sprintf("%s (revision %d)", o, current.Version) }
	toLabel := func(o Object) string { return fmt.Sprintf("%s (revision %d, proposed)", o, proposed.Version) }

	seen := make(map[string]bool, len(newObjs))
	for _, n := range newObjs {
		seen[n.key()] = true
		o, existed := oldByKey[n.key()]
		switch {
		case !existed:
			_, body := bodies(n.Kind, "", n.Body)
			p.Changes = append(p.Changes, Change{Object: n.Object, Op: OpCreate,
				Diff: unifiedDiff("/dev/null", toLabel(n.Object), "", body)})
		case o.Body == n.Body:
			p.Unchanged++
		default:
			oldBody, newBody := bodies(n.Kind, o.Body, n.Body)
			p.Changes = append(p.Changes, Change{Object: n.Object, Op: OpUpdate,
				Diff: unifiedDiff(fromLabel(o.Object), toLabel(n.Object), oldBody, newBody)})
		}
	}
	for _, o := range oldObjs {
		if seen[o.key()] {
			continue
		}
		body, _ := bodies(o.Kind, o.Body, "")
		p.Changes = append(p.Changes, Change{Object: o.Object, Op: OpDelete,
			Diff: unifiedDiff(fromLabel(o.Object), "/dev/null", body, "")})
	}
	return nil
}

// bodies returns the texts to diff for an object, redacting Secrets.
func bodies(kind, oldBody, newBody string) (string, string) {
	if kind == "Secret" {
		return redactSecretPair(oldBody, newBody)
	}
	return oldBody, newBody
}

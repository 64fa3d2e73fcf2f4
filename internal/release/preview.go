package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/manifestdiff"
)

// PreviewOptions configure Preview; they mean what the fields of the same
// name in DeployOptions mean, so a preview shows what that deploy would do.
type PreviewOptions struct {
	ReleaseName string
	Chart       *chart.Chart
	Values      Values
	ReuseValues bool
	// CreateNamespace previews an install into a namespace that does not
	// exist yet: the chart is then rendered without the server (no lookup
	// of live objects), and the namespace is listed as created.
	CreateNamespace bool
}

// PreviewOptions returns the options that preview this deploy.
func (o DeployOptions) PreviewOptions() PreviewOptions {
	return PreviewOptions{ReleaseName: o.ReleaseName, Chart: o.Chart, Values: o.Values,
		ReuseValues: o.ReuseValues, CreateNamespace: o.CreateNamespace}
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
	// Chart is the chart to deploy, DeployedChart the live revision's
	// (upgrade only), both as name-version.
	Chart         string `json:"chart"`
	DeployedChart string `json:"deployedChart,omitempty"`
	// ChartReplaced is set when an upgrade deploys a chart of another name
	// than the live revision's: a different application, not a new version.
	ChartReplaced bool `json:"chartReplaced,omitempty"`
	// ResetValues are the values the user had set on the live revision
	// (-f/--set, as dotted paths) that the upgrade no longer sets, so that
	// they fall back to the chart's defaults: what an upgrade without
	// --reuse-values does to a value it is not given again. See droppedKeys.
	ResetValues []string `json:"resetValues,omitempty"`
	// CreatesNamespace is set when the install creates its namespace.
	CreatesNamespace bool `json:"createsNamespace,omitempty"`
	// Hooks are the hooks the chart renders (helm test pods, migration
	// jobs), which Helm runs on their events.
	Hooks []Hook `json:"hooks,omitempty"`
	// Resources are every object the deploy writes or deletes: the
	// rendered objects (unchanged ones included), hooks, the CRDs an install
	// creates, and the objects an upgrade deletes (marked Deleted).
	Resources []Resource `json:"-"`
}

// DestructiveReasons says why the deploy destroys something a user may want
// back: it deletes objects, replaces the chart by another, or resets values
// the user had set. Empty for an install.
func (p *Preview) DestructiveReasons() []string {
	var out []string
	if n := p.Count(OpDelete); n > 0 {
		var names []string
		for _, c := range p.Changes {
			if c.Op == OpDelete {
				names = append(names, c.Object.String())
			}
		}
		out = append(out, fmt.Sprintf("deletes %d object(s): %s", n, strings.Join(names, ", ")))
	}
	if p.ChartReplaced {
		out = append(out, fmt.Sprintf("replaces chart %s with %s", p.DeployedChart, p.Chart))
	}
	if len(p.ResetValues) > 0 {
		out = append(out, fmt.Sprintf("resets values set on revision %d to the chart's defaults: %s (pass them again, or use --reuse-values / reuse_values)",
			p.CurrentRevision, strings.Join(p.ResetValues, ", ")))
	}
	return out
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
	if p.CreatesNamespace {
		fmt.Fprintf(&b, "  + Namespace/%s (--create-namespace)\n", p.Namespace)
	}
	marks := map[ChangeOp]string{OpCreate: "+", OpUpdate: "~", OpDelete: "-"}
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "  %s %s\n", marks[c.Op], c.Object)
		if c.Diff != "" {
			b.WriteString(c.Diff)
		}
	}
	if len(p.Hooks) > 0 {
		b.WriteString("Hooks (run by Helm on these events):\n")
		for _, h := range p.Hooks {
			fmt.Fprintf(&b, "  %s\n", h)
		}
	}
	for _, r := range p.DestructiveReasons() {
		fmt.Fprintf(&b, "Destructive: the upgrade %s.\n", r)
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
		p, err := c.previewInstall(ctx, name, ch, vals, opts.CreateNamespace)
		if err != nil {
			return nil, c.fail(op+" install of", name, err)
		}
		if last != nil {
			p.NextRevision = last.Version + 1
		}
		return p, nil
	}

	current, err := c.liveRevision(name, last)
	if err != nil {
		return nil, c.fail(op+" upgrade of", name, err)
	}
	proposed, err := c.newUpgrade(c.cfg, true, opts.ReuseValues).RunWithContext(ctx, name, ch, vals)
	if err != nil {
		return nil, c.fail(op+" upgrade of", name, err)
	}
	p := &Preview{Action: ActionUpgrade, Release: name, Namespace: c.namespace,
		CurrentRevision: current.Version, NextRevision: proposed.Version,
		Chart: chartName(proposed.Chart), DeployedChart: chartName(current.Chart),
		ChartReplaced: chartBaseName(current.Chart) != chartBaseName(proposed.Chart),
		ResetValues:   droppedKeys(current.Config, proposed.Config)}
	if err := p.diff(current, proposed); err != nil {
		return nil, c.fail(op+" upgrade of", name, err)
	}
	if err := c.fillRendered(p, proposed); err != nil {
		return nil, c.fail(op+" upgrade of", name, err)
	}
	deleted, err := c.deletedResources(current, proposed)
	if err != nil {
		return nil, c.fail(op+" upgrade of", name, err)
	}
	p.Resources = append(p.Resources, deleted...)
	return p, nil
}

// previewInstall renders an install with a server-side dry run. When the
// namespace does not exist yet and the install is to create it, the server
// cannot take the dry run, so the chart is rendered on the client instead
// (templates that look up live objects see none, as they will not exist).
func (c *Client) previewInstall(ctx context.Context, name string, ch *chart.Chart, vals map[string]any, createNamespace bool) (*Preview, error) {
	p := &Preview{Action: ActionInstall, Release: name, Namespace: c.namespace, NextRevision: 1, Chart: chartName(ch)}
	if createNamespace {
		missing, err := c.namespaceMissing(ctx)
		if err != nil {
			return nil, err
		}
		p.CreatesNamespace = missing
	}
	inst := c.newInstall(c.cfg, name, true)
	if p.CreatesNamespace {
		inst.DryRunOption = "client"
	}
	rel, err := inst.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, err
	}
	objs, err := objectsOf(rel.Manifest)
	if err != nil {
		return nil, err
	}
	crds, err := c.crdResources(ch)
	if err != nil {
		return nil, err
	}
	for _, o := range objectsIn(crds) {
		p.Changes = append(p.Changes, Change{Object: o, Op: OpCreate})
	}
	for _, o := range objs {
		p.Changes = append(p.Changes, Change{Object: o, Op: OpCreate})
	}
	if err := c.fillRendered(p, rel); err != nil {
		return nil, err
	}
	p.Resources = append(crds, p.Resources...)
	return p, nil
}

// fillRendered adds a rendered revision's hooks and resources to p.
func (c *Client) fillRendered(p *Preview, rel *helmrelease.Release) error {
	hooks, err := hooksOf(rel.Hooks)
	if err != nil {
		return err
	}
	p.Hooks = hooks
	rs, err := c.resourcesOf(rel.Manifest, rel.Hooks)
	if err != nil {
		return err
	}
	p.Resources = append(p.Resources, rs...)
	return nil
}

// deletedResources are the objects of from's manifest that to's lacks: the
// ones moving from one revision to the other deletes.
func (c *Client) deletedResources(from, to *helmrelease.Release) ([]Resource, error) {
	oldObjs, err := parseManifest(from.Manifest)
	if err != nil {
		return nil, fmt.Errorf("revision %d: %w", from.Version, err)
	}
	newObjs, err := parseManifest(to.Manifest)
	if err != nil {
		return nil, fmt.Errorf("revision %d: %w", to.Version, err)
	}
	oldObjs = slices.DeleteFunc(oldObjs, func(o manifestObject) bool {
		return slices.ContainsFunc(newObjs, func(n manifestObject) bool { return n.key() == o.key() })
	})
	return c.resolve(oldObjs, false, true)
}

// namespaceMissing reports whether the Client's namespace does not exist.
func (c *Client) namespaceMissing(ctx context.Context) (bool, error) {
	cs, err := c.cfg.KubernetesClientSet()
	if err != nil {
		return false, fmt.Errorf("build a Kubernetes client: %w", err)
	}
	_, err = cs.CoreV1().Namespaces().Get(ctx, c.namespace, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("look up namespace %q: %w", c.namespace, err)
	}
	return false, nil
}

// chartName is a chart's name-version, "" when unknown.
func chartName(ch *chart.Chart) string {
	if ch == nil || ch.Metadata == nil {
		return ""
	}
	return ch.Metadata.Name + "-" + ch.Metadata.Version
}

// chartBaseName is a chart's name without its version.
func chartBaseName(ch *chart.Chart) string {
	if ch == nil || ch.Metadata == nil {
		return ""
	}
	return ch.Metadata.Name
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
				Diff: manifestdiff.Unified("/dev/null", toLabel(n.Object), "", body)})
		case o.Body == n.Body:
			p.Unchanged++
		default:
			oldBody, newBody := bodies(n.Kind, o.Body, n.Body)
			p.Changes = append(p.Changes, Change{Object: n.Object, Op: OpUpdate,
				Diff: manifestdiff.Unified(fromLabel(o.Object), toLabel(n.Object), oldBody, newBody)})
		}
	}
	for _, o := range oldObjs {
		if seen[o.key()] {
			continue
		}
		body, _ := bodies(o.Kind, o.Body, "")
		p.Changes = append(p.Changes, Change{Object: o.Object, Op: OpDelete,
			Diff: manifestdiff.Unified(fromLabel(o.Object), "/dev/null", body, "")})
	}
	return nil
}

// bodies returns the texts to diff for an object, redacting Secrets.
func bodies(kind, oldBody, newBody string) (string, string) {
	if kind == "Secret" {
		return manifestdiff.RedactSecretPair(oldBody, newBody)
	}
	return oldBody, newBody
}

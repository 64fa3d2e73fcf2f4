package release

import (
	"cmp"
	"context"
	"slices"
	"time"

	"helm.sh/helm/v3/pkg/action"
	helmrelease "helm.sh/helm/v3/pkg/release"
)

// Status is the current revision of a release and what it consists of.
type Status struct {
	Release
	FirstDeployed time.Time `json:"firstDeployed"`
	// Objects are the objects of the revision's manifest, in install order.
	Objects []Object `json:"objects"`
	// Notes is the chart's rendered NOTES.txt.
	Notes string `json:"notes,omitempty"`
}

// Status reports the newest revision of the release.
func (c *Client) Status(ctx context.Context, name string) (*Status, error) {
	name = releaseName(name)
	const op = "get status of"
	if err := c.ready(ctx); err != nil {
		return nil, c.fail(op, name, err)
	}
	rel, err := action.NewStatus(c.cfg).Run(name)
	if err != nil {
		return nil, c.fail(op, name, err)
	}
	objs, err := objectsOf(rel.Manifest)
	if err != nil {
		return nil, c.fail(op, name, err)
	}
	st := &Status{Release: summarise(rel), Objects: objs}
	if rel.Info != nil {
		st.FirstDeployed = rel.Info.FirstDeployed.Time
		st.Notes = rel.Info.Notes
	}
	return st, nil
}

// History lists the release's revisions, oldest first. Upgrades through this
// package keep the last 10 (see maxHistory).
func (c *Client) History(ctx context.Context, name string) ([]Release, error) {
	name = releaseName(name)
	const op = "get history of"
	if err := c.ready(ctx); err != nil {
		return nil, c.fail(op, name, err)
	}
	rels, err := action.NewHistory(c.cfg).Run(name)
	if err != nil {
		return nil, c.fail(op, name, err)
	}
	return summariseSorted(rels), nil
}

// ListOptions configure List.
type ListOptions struct {
	// AllNamespaces lists releases in every namespace instead of the Client's.
	AllNamespaces bool
	// Filter is a regular expression the release names must match.
	Filter string
}

// List returns the newest revision of each release, sorted by namespace and
// name. Releases in every state are listed, pending and failed ones too:
// those are the ones an operator needs to see.
func (c *Client) List(ctx context.Context, opts ListOptions) ([]Release, error) {
	const op = "list"
	name := "" // no single release
	if err := c.ready(ctx); err != nil {
		return nil, c.fail(op, name, err)
	}
	cfg := c.cfg
	if opts.AllNamespaces {
		var err error
		// Helm's storage reads one namespace; "" reads them all.
		if cfg, err = c.newConfig(""); err != nil {
			return nil, c.fail(op, name, err)
		}
	}
	l := action.NewList(cfg)
	l.AllNamespaces = opts.AllNamespaces
	l.Filter = opts.Filter
	l.StateMask = action.ListAll
	rels, err := l.Run()
	if err != nil {
		return nil, c.fail(op, name, err)
	}
	out := make([]Release, 0, len(rels))
	for _, r := range rels {
		out = append(out, summarise(r))
	}
	slices.SortFunc(out, func(a, b Release) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// summariseSorted summarises revisions in revision order.
func summariseSorted(rels []*helmrelease.Release) []Release {
	out := make([]Release, 0, len(rels))
	for _, r := range rels {
		out = append(out, summarise(r))
	}
	slices.SortFunc(out, func(a, b Release) int { return cmp.Compare(a.Revision, b.Revision) })
	return out
}

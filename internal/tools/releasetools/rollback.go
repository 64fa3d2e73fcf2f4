package releasetools

import (
	"context"
	"fmt"
	"strings"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
	"k8s.io/utils/ptr"
)

// RollbackArgs are helm_rollback's arguments.
type RollbackArgs struct {
	Release        string `json:"release,omitempty" description:"Default todo-chatbot"`
	Revision       int    `json:"revision,omitempty" description:"From helm_history; default the last good one"`
	Namespace      string `json:"namespace,omitempty" description:"Namespace; defaults to the current namespace"`
	Wait           *bool  `json:"wait,omitempty" description:"Wait until the restored workloads are ready (default true)"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" description:"How long to wait at most (default 300, max 3600)"`
}

// Validate implements tools.Validator.
func (a RollbackArgs) Validate() error {
	if err := checkRelease(a.Release); err != nil {
		return err
	}
	if err := kubetools.CheckNamespace(a.Namespace); err != nil {
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
		"Roll a Helm release back (also unsticks a pending one).",
		tools.Write,
		func(ctx context.Context, a RollbackArgs) (tools.Action, error) { return prepareRollback(ctx, d, a) })
}

func prepareRollback(ctx context.Context, d Deps, a RollbackArgs) (tools.Action, error) {
	c, err := d.client(a.Namespace)
	if err != nil {
		return nil, err
	}
	name := releaseOrDefault(a.Release)
	p, err := c.PreviewRollback(ctx, name, a.Revision)
	if err != nil {
		return nil, classify(err)
	}
	apply := func(ctx context.Context) (any, error) {
		c, err := d.client(a.Namespace)
		if err != nil {
			return nil, err
		}
		if err := checkUnchanged(ctx, c, name, p.Current.Revision); err != nil {
			return nil, err
		}
		res, err := c.Rollback(ctx, name, release.RollbackOptions{
			Revision: p.Target.Revision, Wait: ptr.Deref(a.Wait, true), Timeout: timeoutFor(a.TimeoutSeconds),
		})
		return res, classify(err)
	}
	return tools.Mutation{Plan: rollbackPreview(name, c.Namespace(), p), Apply: apply}, nil
}

// rollbackPreview describes a rollback: the two revisions, the objects it
// removes (which makes it destructive), its targets and privilege reasons.
func rollbackPreview(name, namespace string, p *release.RollbackPreview) tools.Preview {
	cur, tgt := p.Current, p.Target
	plan := tools.Preview{Summary: fmt.Sprintf("release %s in %s: revision %d → %d (restores revision %d's chart and values as revision %d)",
		name, namespace, cur.Revision, tgt.Revision, tgt.Revision, p.NextRevision)}
	var b strings.Builder
	fmt.Fprintf(&b, "current:  revision %d, %s, %s (%s)\nrestored: revision %d, %s, %s (%s)",
		cur.Revision, cur.Status, cur.Chart, cur.Description, tgt.Revision, tgt.Status, tgt.Chart, tgt.Description)
	if len(p.Removed) > 0 {
		names := make([]string, len(p.Removed))
		for i, o := range p.Removed {
			names[i] = o.String()
			fmt.Fprintf(&b, "\n  - %s (not in revision %d)", o, tgt.Revision)
		}
		plan.Risk = tools.Destructive
		plan.Summary += fmt.Sprintf("; destructive: it deletes %d object(s) revision %d lacks: %s",
			len(p.Removed), tgt.Revision, strings.Join(names, ", "))
	}
	plan.Diff = b.String()
	judge(p.Resources).orRecord(name, namespace, p.NextRevision).apply(&plan)
	return plan
}

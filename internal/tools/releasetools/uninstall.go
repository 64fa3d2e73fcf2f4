package releasetools

import (
	"context"
	"fmt"
	"strings"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// UninstallArgs are helm_uninstall's arguments.
type UninstallArgs struct {
	Release        string `json:"release,omitempty" description:"Default todo-chatbot"`
	Namespace      string `json:"namespace,omitempty" description:"Namespace; defaults to the current namespace"`
	Wait           bool   `json:"wait,omitempty" description:"Wait until the removed objects are gone (default false)"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" description:"How long to wait at most (default 300, max 3600)"`
}

// Validate implements tools.Validator.
func (a UninstallArgs) Validate() error {
	if err := checkRelease(a.Release); err != nil {
		return err
	}
	if err := kubetools.CheckNamespace(a.Namespace); err != nil {
		return err
	}
	return checkTimeout(a.TimeoutSeconds)
}

// Uninstall declares helm_uninstall.
func Uninstall(d Deps) tools.Tool {
	return tools.Define(NameUninstall,
		"Uninstall a Helm release (kept objects stay).",
		tools.Destructive,
		func(ctx context.Context, a UninstallArgs) (tools.Action, error) { return prepareUninstall(ctx, d, a) })
}

func prepareUninstall(ctx context.Context, d Deps, a UninstallArgs) (tools.Action, error) {
	c, err := d.client(a.Namespace)
	if err != nil {
		return nil, err
	}
	name := releaseOrDefault(a.Release)
	dry, err := c.Uninstall(ctx, name, release.UninstallOptions{DryRun: true})
	if err != nil {
		return nil, classify(err)
	}
	plan := uninstallPreview(dry)
	apply := func(ctx context.Context) (any, error) {
		c, err := d.client(a.Namespace)
		if err != nil {
			return nil, err
		}
		if err := checkUnchanged(ctx, c, name, dry.Release.Revision); err != nil {
			return nil, err
		}
		res, err := c.Uninstall(ctx, name, release.UninstallOptions{Wait: a.Wait, Timeout: timeoutFor(a.TimeoutSeconds)})
		return res, classify(err)
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

func uninstallPreview(r *release.UninstallResult) tools.Preview {
	rel := r.Release
	summary := fmt.Sprintf("uninstall release %s in %s (revision %d, %s): remove %d objects and the release history",
		rel.Name, rel.Namespace, rel.Revision, rel.Status, len(r.Removed))
	if len(r.Kept) > 0 {
		summary += fmt.Sprintf(", keep %d", len(r.Kept))
	}
	var b strings.Builder
	for _, o := range r.Removed {
		fmt.Fprintf(&b, "  - %s\n", o)
	}
	for _, o := range r.Kept {
		fmt.Fprintf(&b, "  = %s kept: %s\n", o.Object, o.Reason)
	}
	plan := tools.Preview{Summary: summary, Diff: strings.TrimRight(b.String(), "\n")}
	judge(r.Resources).orRecord(rel.Name, rel.Namespace, rel.Revision).apply(&plan)
	return plan
}

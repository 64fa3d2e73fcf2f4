package releasetools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// DeployArgs are helm_deploy's arguments.
type DeployArgs struct {
	Release         string   `json:"release,omitempty" description:"Default todo-chatbot"`
	ChartPath       string   `json:"chart_path,omitempty" description:"Folder or .tgz under --chart-dir"`
	ValuesSet       []string `json:"values_set,omitempty" description:"--set, e.g. backend.replicaCount=2"`
	ValuesFiles     []string `json:"values_files,omitempty" description:"-f files under --chart-dir"`
	ReuseValues     bool     `json:"reuse_values,omitempty" description:"Keep the last values"`
	Namespace       string   `json:"namespace,omitempty" description:"Namespace; defaults to the current namespace"`
	CreateNamespace bool     `json:"create_namespace,omitempty" description:"Create the namespace if missing"`
	Atomic          *bool    `json:"atomic,omitempty" description:"Undo a failed deploy (default true)"`
	Wait            *bool    `json:"wait,omitempty" description:"Wait until the workloads are ready (default true)"`
	TimeoutSeconds  int      `json:"timeout_seconds,omitempty" description:"How long to wait at most (default 300, max 3600)"`
}

// Validate implements tools.Validator.
func (a DeployArgs) Validate() error {
	if err := checkRelease(a.Release); err != nil {
		return err
	}
	if err := kubetools.CheckNamespace(a.Namespace); err != nil {
		return err
	}
	if len(a.ValuesSet) > maxValueArgs || len(a.ValuesFiles) > maxValueArgs {
		return fmt.Errorf("at most %d values_set and %d values_files are accepted", maxValueArgs, maxValueArgs)
	}
	for _, s := range a.ValuesSet {
		if k, _, ok := strings.Cut(s, "="); !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("values_set %q: want key=value, e.g. backend.replicaCount=2", s)
		}
	}
	for _, f := range a.ValuesFiles {
		if strings.TrimSpace(f) == "" {
			return errors.New("values_files holds an empty path")
		}
	}
	return checkTimeout(a.TimeoutSeconds)
}

// options converts the arguments for a chart and values read in Prepare.
func (a DeployArgs) options(ch *chart.Chart, src *chartSource) release.DeployOptions {
	atomic := ptr.Deref(a.Atomic, true)
	return release.DeployOptions{
		ReleaseName:     a.Release,
		Chart:           ch,
		Values:          release.Values{Loaded: src.values, Set: a.ValuesSet},
		ReuseValues:     a.ReuseValues,
		Atomic:          atomic,
		Wait:            ptr.Deref(a.Wait, true) || atomic,
		Timeout:         timeoutFor(a.TimeoutSeconds),
		CreateNamespace: a.CreateNamespace,
	}
}

// Deploy declares helm_deploy.
func Deploy(d Deps) tools.Tool {
	return tools.Define(NameDeploy,
		"helm upgrade --install; default chart: the Todo Chatbot.",
		tools.Write,
		func(ctx context.Context, a DeployArgs) (tools.Action, error) { return prepareDeploy(ctx, d, a) })
}

// prepareDeploy reads the chart and values once, previews the deploy from
// them, and returns a mutation that deploys the same bytes.
func prepareDeploy(ctx context.Context, d Deps, a DeployArgs) (tools.Action, error) {
	src, err := d.readSource(a)
	if err != nil {
		return nil, err
	}
	ch, err := src.chart()
	if err != nil {
		return nil, err
	}
	c, err := d.client(a.Namespace)
	if err != nil {
		return nil, err
	}
	p, err := c.Preview(ctx, a.options(ch, src).PreviewOptions())
	if err != nil {
		return nil, classify(err)
	}
	apply := func(ctx context.Context) (any, error) {
		ch, err := src.chart()
		if err != nil {
			return nil, err
		}
		c, err := d.client(a.Namespace)
		if err != nil {
			return nil, err
		}
		if err := checkUnchanged(ctx, c, p.Release, p.NextRevision-1); err != nil {
			return nil, err
		}
		res, err := c.Deploy(ctx, a.options(ch, src))
		return res, classify(err)
	}
	return tools.Mutation{Plan: deployPreview(p, src), Apply: apply}, nil
}

// deployPreview turns a release preview into the gate's: the summary line,
// the source and its digest, the changed objects and their diffs, the
// hooks; the risk raised to destructive when the upgrade deletes objects,
// replaces the chart or resets values the user had set; the targets and
// privilege reasons of everything it renders.
func deployPreview(p *release.Preview, src *chartSource) tools.Preview {
	destructive := p.DestructiveReasons()
	if p.Action == release.ActionUpgrade && !p.HasChanges() && len(destructive) == 0 {
		return tools.Preview{NoChange: true, Summary: fmt.Sprintf(
			"release %q in %s is up to date at revision %d: the upgrade would change none of its %d objects",
			p.Release, p.Namespace, p.CurrentRevision, p.Unchanged)}
	}
	summary, diff, _ := strings.Cut(p.String(), "\n")
	plan := tools.Preview{
		Summary: strings.TrimSuffix(summary, "."),
		Diff:    src.describe() + "\n" + strings.TrimRight(diff, "\n"),
	}
	if len(destructive) > 0 {
		plan.Risk = tools.Destructive
		plan.Summary += "; destructive: it " + strings.Join(destructive, "; it ")
	}
	j := judge(p.Resources).orRecord(p.Release, p.Namespace, p.NextRevision)
	if p.CreatesNamespace {
		j.targets = append(j.targets, tools.Target{Kind: "Namespace", Name: p.Namespace})
	}
	j.apply(&plan)
	return plan
}

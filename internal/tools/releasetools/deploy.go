package releasetools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
)

// DeployArgs are helm_deploy's arguments.
type DeployArgs struct {
	Release         string   `json:"release,omitempty" description:"Release name (default todo-chatbot); lowercase letters, digits, '-' and '.', at most 53 characters"`
	ChartPath       string   `json:"chart_path,omitempty" description:"Local chart folder or .tgz; leave out to deploy the built-in Todo Chatbot chart"`
	ValuesSet       []string `json:"values_set,omitempty" description:"Helm --set expressions, e.g. backend.replicaCount=2"`
	ValuesFiles     []string `json:"values_files,omitempty" description:"Local YAML values files (helm -f), later files win"`
	ReuseValues     bool     `json:"reuse_values,omitempty" description:"On an upgrade, keep the values of the last revision and apply these on top (default false: chart defaults plus these)"`
	Namespace       string   `json:"namespace,omitempty" description:"Namespace; defaults to the current namespace"`
	CreateNamespace bool     `json:"create_namespace,omitempty" description:"Create the namespace on install if it does not exist"`
	Atomic          *bool    `json:"atomic,omitempty" description:"Undo a failed deploy: roll back a failed upgrade, remove a failed install (default true; implies wait)"`
	Wait            *bool    `json:"wait,omitempty" description:"Wait until the workloads are ready (default true)"`
	TimeoutSeconds  int      `json:"timeout_seconds,omitempty" description:"How long to wait at most (default 300, max 3600)"`
}

// Validate implements tools.Validator.
func (a DeployArgs) Validate() error {
	if err := checkRelease(a.Release); err != nil {
		return err
	}
	if err := checkNamespace(a.Namespace); err != nil {
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

// options converts the arguments; ch is nil for the embedded chart.
func (a DeployArgs) options(ch *chart.Chart) release.DeployOptions {
	atomic := boolOr(a.Atomic, true)
	return release.DeployOptions{
		ReleaseName:     a.Release,
		Chart:           ch,
		Values:          release.Values{Files: a.ValuesFiles, Set: a.ValuesSet},
		ReuseValues:     a.ReuseValues,
		Atomic:          atomic,
		Wait:            boolOr(a.Wait, true) || atomic,
		Timeout:         timeoutFor(a.TimeoutSeconds),
		CreateNamespace: a.CreateNamespace,
	}
}

// loadChart loads chart_path with Helm's loader; nil means the embedded chart.
func (a DeployArgs) loadChart() (*chart.Chart, error) {
	if a.ChartPath == "" {
		return nil, nil
	}
	ch, err := loader.Load(a.ChartPath)
	if err != nil {
		return nil, fmt.Errorf("%w: load chart %s: %v", tools.ErrInvalidArgs, a.ChartPath, err)
	}
	return ch, nil
}

// Deploy declares helm_deploy.
func Deploy(d Deps) tools.Tool {
	return tools.Define(NameDeploy,
		"Install or upgrade a Helm release (helm upgrade --install), by default the built-in Todo Chatbot chart as release todo-chatbot. "+
			"The preview is a server-side dry run: the objects a new release creates, or a per-object diff for an upgrade.",
		tools.Write,
		func(ctx context.Context, a DeployArgs) (tools.Action, error) { return prepareDeploy(ctx, d, a) })
}

func prepareDeploy(ctx context.Context, d Deps, a DeployArgs) (tools.Action, error) {
	ch, err := a.loadChart()
	if err != nil {
		return nil, err
	}
	c, err := d.client(a.Namespace)
	if err != nil {
		return nil, err
	}
	p, err := c.Preview(ctx, a.options(ch).PreviewOptions())
	if err != nil && a.CreateNamespace && namespaceMissing(err) {
		// The dry run cannot render into a namespace that does not exist
		// yet; the install creates it, and everything in it is new.
		name := releaseOrDefault(a.Release)
		plan := tools.Preview{Summary: fmt.Sprintf("Install release %q in namespace %q (revision 1), creating the namespace", name, c.Namespace())}
		return deployMutation(d, a, plan, name, 0), nil
	}
	if err != nil {
		return nil, classify(err)
	}
	return deployMutation(d, a, deployPreview(p), p.Release, p.NextRevision-1), nil
}

// namespaceMissing reports whether err says the target namespace does not exist.
func namespaceMissing(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, `namespaces "`) && strings.Contains(msg, "not found")
}

// deployMutation deploys if the release is still at revision current (0: does
// not exist), as when plan was computed.
func deployMutation(d Deps, a DeployArgs, plan tools.Preview, name string, current int) tools.Mutation {
	apply := func(ctx context.Context) (any, error) {
		// Reload: Helm may modify the chart it is given.
		ch, err := a.loadChart()
		if err != nil {
			return nil, err
		}
		c, err := d.client(a.Namespace)
		if err != nil {
			return nil, err
		}
		if err := checkUnchanged(ctx, c, name, current); err != nil {
			return nil, err
		}
		res, err := c.Deploy(ctx, a.options(ch))
		return res, classify(err)
	}
	return tools.Mutation{Plan: plan, Apply: apply}
}

// deployPreview turns a release preview into the gate's: the summary line,
// then the changed objects and their diffs.
func deployPreview(p *release.Preview) tools.Preview {
	if p.Action == release.ActionUpgrade && !p.HasChanges() {
		return tools.Preview{NoChange: true, Summary: fmt.Sprintf(
			"release %q in %s is up to date at revision %d: the upgrade would change none of its %d objects",
			p.Release, p.Namespace, p.CurrentRevision, p.Unchanged)}
	}
	text := p.String()
	summary, diff, _ := strings.Cut(text, "\n")
	return tools.Preview{Summary: strings.TrimSuffix(summary, "."), Diff: strings.TrimRight(diff, "\n")}
}

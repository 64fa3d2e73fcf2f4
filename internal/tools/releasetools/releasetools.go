// Package releasetools holds the agent's Helm tools: deploy (install or
// upgrade), status, history, rollback and uninstall of a release, through
// the typed Helm SDK wrapper in internal/release.
//
// Every mutation is previewed from the live release before it is approved:
// helm_deploy with a server-side dry run, a per-object diff and the chart's
// hooks, helm_rollback with the revisions involved, helm_uninstall with the
// objects removed and kept. Run refuses with tools.ErrConflict when the
// release moved to another revision in between.
//
// Helm is judged by what it renders, in code: each preview lists every
// object it touches as a target (cluster-scoped ones with no namespace) and
// the privilege reasons tools.ClassifyObject finds in them, hooks and CRDs
// included; an upgrade that deletes objects, replaces the chart or resets
// values the user had set, and a rollback that deletes objects, raise the
// risk to destructive.
//
// helm_deploy reads charts and values files only from the folders the user
// allowed (Options.ChartRoots), regular files under size caps, once: Run
// deploys the bytes the preview rendered (source.go).
package releasetools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// Tool names. The planner, the LLM loop and the CLI refer to tools by these
// names, so they are part of the contract and must not change.
const (
	NameDeploy    = "helm_deploy"
	NameStatus    = "helm_status"
	NameHistory   = "helm_history"
	NameRollback  = "helm_rollback"
	NameUninstall = "helm_uninstall"
)

// Limits on arguments.
const (
	// maxReleaseNameLen is Helm's limit: release names end up in labels and
	// in Secret names with a suffix.
	maxReleaseNameLen = 53
	// maxTimeoutSeconds bounds waits whatever a model asks for.
	maxTimeoutSeconds = 3600
	// maxValueArgs bounds values_set and values_files.
	maxValueArgs = 50
)

// Deps are what the tools need: the cluster, the namespace a call works in
// when it names none ("" = the getter's namespace), and the Options.
type Deps struct {
	Getter    genericclioptions.RESTClientGetter
	Namespace string
	Options
}

// Options are what the user allowed on the command line.
type Options struct {
	// ChartRoots are the folders (or single files) helm_deploy may read
	// chart_path and values_files from, symlinks resolved: the --chart-dir
	// folders for the agent, or the chart and -f files typed after
	// `opsagent install`. None: only the built-in chart, with no values
	// files. Every file read is also capped in size (source.go).
	ChartRoots []string
	// RootsFlag names where ChartRoots come from, for refusals; default
	// "--chart-dir DIR".
	RootsFlag string
}

func (o Options) rootsFlag() string {
	if o.RootsFlag == "" {
		return "--chart-dir DIR"
	}
	return o.RootsFlag
}

// New returns every Helm tool, bound to one cluster.
func New(getter genericclioptions.RESTClientGetter, namespace string, opts Options) []tools.Tool {
	d := Deps{Getter: getter, Namespace: namespace, Options: opts}
	return []tools.Tool{Deploy(d), Status(d), History(d), Rollback(d), Uninstall(d)}
}

// client builds a release client for one call. Helm's Configuration is not
// meant to be shared by concurrent actions, so each call gets its own.
func (d Deps) client(namespace string) (*release.Client, error) {
	if namespace == "" {
		namespace = d.Namespace
	}
	return release.New(d.Getter, namespace)
}

// releaseOrDefault returns name, or the default release name.
func releaseOrDefault(name string) string {
	if name == "" {
		return release.DefaultReleaseName
	}
	return name
}

// checkRelease accepts "" (the default release) or a valid release name.
func checkRelease(name string) error {
	if name == "" {
		return nil
	}
	if len(name) > maxReleaseNameLen {
		return fmt.Errorf("release %q is %d characters, more than the %d Helm allows", name, len(name), maxReleaseNameLen)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("release %q is not a valid name: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// checkTimeout bounds timeout_seconds; Helm waits may run longer than the
// other tools' (maxTimeoutSeconds).
func checkTimeout(secs int) error {
	return kubetools.CheckRange("timeout_seconds", secs, 0, maxTimeoutSeconds)
}

// timeoutFor converts timeout_seconds; 0 leaves the release package's
// default (Helm's 5 minutes, not the other tools' 2).
func timeoutFor(secs int) time.Duration { return time.Duration(secs) * time.Second }

// classify marks release errors the caller must tell apart with the tools
// package's sentinels: a missing release or revision and invalid values are
// bad input (exit 2), not a failed action.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, release.ErrReleaseNotFound), errors.Is(err, release.ErrRevisionNotFound):
		return fmt.Errorf("%w: %w", tools.ErrNotFound, err)
	case errors.Is(err, release.ErrInvalidValues):
		return fmt.Errorf("%w: %w", tools.ErrInvalidArgs, err)
	}
	return err
}

// latestRevision returns the newest revision of the release, 0 when it does
// not exist.
func latestRevision(ctx context.Context, c *release.Client, name string) (int, error) {
	hist, err := c.History(ctx, name)
	if errors.Is(err, release.ErrReleaseNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(hist) == 0 {
		return 0, nil
	}
	return hist[len(hist)-1].Revision, nil
}

// checkUnchanged fails with tools.ErrConflict when the release is no longer
// at the revision the preview was computed from.
func checkUnchanged(ctx context.Context, c *release.Client, name string, want int) error {
	got, err := latestRevision(ctx, c, name)
	if err != nil {
		return classify(err)
	}
	if got != want {
		return fmt.Errorf("%w: release %q in %s is at revision %d, not %d as previewed; re-run to see the new state",
			tools.ErrConflict, name, c.Namespace(), got, want)
	}
	return nil
}

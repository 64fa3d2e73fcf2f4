package releasetools

// These tests run the Helm tools on the sandbox cluster, through the gate
// where approval matters. Each owns a namespace (testcluster) and deploys
// tiny charts written to t.TempDir() without waiting, to stay quick.

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
)

const clusterTimeout = 3 * time.Minute

var noWait = func() *bool { b := false; return &b }()

// clusterDeps returns Deps for a fresh test namespace, allowing charts from
// the returned root folder.
func clusterDeps(t *testing.T) (Deps, *testcluster.Env, string, context.Context) {
	t.Helper()
	env := testcluster.New(t)
	root := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	t.Cleanup(cancel)
	return Deps{Getter: env.Getter(), Namespace: env.Namespace, Options: Options{ChartRoots: []string{root}}}, env, root, ctx
}

// yesGate is the gate of `--yes` in the test's namespace, with neither
// --allow-destructive nor --allow-privileged.
func yesGate(d Deps, ns string) *tools.Gate {
	return &tools.Gate{
		Registry: tools.NewRegistry(New(d.Getter, d.Namespace, d.Options)...),
		Approver: &tools.Policy{AssumeYes: true},
		Scope:    tools.Scope{Namespace: ns},
	}
}

func call(t *testing.T, ctx context.Context, g *tools.Gate, tool string, args any) *tools.Record {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	return g.Call(ctx, tool, raw)
}

// prepare plans a call without running it.
func prepare(t *testing.T, ctx context.Context, tool tools.Tool, args any) tools.Preview {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	act, err := tool.Prepare(ctx, raw)
	if err != nil {
		t.Fatalf("prepare %s: %v", tool.Name(), err)
	}
	return act.Preview()
}

func releaseMissing(t *testing.T, ctx context.Context, d Deps, name string) {
	t.Helper()
	c, err := d.client("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.History(ctx, name); !errors.Is(err, release.ErrReleaseNotFound) {
		t.Errorf("release %s: history error = %v, want not found (nothing installed)", name, err)
	}
}

func TestClusterDeployRefusesChartOutsideRoots(t *testing.T) {
	t.Parallel()
	d, env, root, ctx := clusterDeps(t)
	outside := writeChart(t, t.TempDir(), "outside", configMapChart)
	symlink(t, outside, filepath.Join(root, "link"))

	for _, path := range []string{outside, filepath.Join(root, "link")} {
		rec := call(t, ctx, yesGate(d, env.Namespace), NameDeploy, DeployArgs{Release: "outside", ChartPath: path, Wait: noWait, Atomic: noWait})
		if !errors.Is(rec.Err(), tools.ErrInvalidArgs) || !strings.Contains(rec.Error, "--chart-dir") {
			t.Errorf("deploy of %s: error = %v, want ErrInvalidArgs naming --chart-dir", path, rec.Err())
		}
	}
	releaseMissing(t, ctx, d, "outside")
}

func TestClusterDeployRunsWhatWasPreviewed(t *testing.T) {
	t.Parallel()
	d, env, root, ctx := clusterDeps(t)
	dir := writeChart(t, root, "same", configMapChart)
	values := filepath.Join(root, "values.yaml")
	writeFile(t, values, "note: previewed\n")

	raw, _ := json.Marshal(DeployArgs{Release: "same", ChartPath: dir, ValuesFiles: []string{values}, Wait: noWait, Atomic: noWait})
	act, err := Deploy(d).Prepare(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(act.Preview().Diff, "sha256:") {
		t.Errorf("preview should show the content digest:\n%s", act.Preview().Diff)
	}
	// Between the preview and the run, the chart and values change on disk.
	writeFile(t, filepath.Join(dir, "templates", "a.yaml"), strings.ReplaceAll(configMapChart["templates/a.yaml"], "-a", "-swapped"))
	writeFile(t, filepath.Join(dir, "templates", "c.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sneaked-in\n")
	writeFile(t, values, "note: swapped\n")
	res, err := act.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.(*release.DeployResult).Objects; len(got) != 2 {
		t.Errorf("deployed objects = %v, want same-a and same-b", got)
	}
	cm, err := env.Client.CoreV1().ConfigMaps(env.Namespace).Get(ctx, "same-a", metav1.GetOptions{})
	if err != nil || cm.Data["note"] != "previewed" {
		t.Fatalf("ConfigMap same-a = %v, %v; want note=previewed", cm, err)
	}
	for _, name := range []string{"same-swapped", "sneaked-in"} {
		if _, err := env.Client.CoreV1().ConfigMaps(env.Namespace).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap %s from the changed files: err = %v, want not found", name, err)
		}
	}
}

// privilegedCharts render one privileged object each.
var privilegedCharts = []struct {
	name, template, wantReason, wantTarget string
	clusterScoped                          bool
}{
	{
		name: "crb",
		template: `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ .Release.Namespace }}-view
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: default, namespace: {{ .Release.Namespace }}}]
`,
		wantReason: "ClusterRoleBinding grants permissions", wantTarget: "ClusterRoleBinding", clusterScoped: true,
	},
	{
		name: "hostpath",
		template: `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-pod
spec:
  containers: [{name: c, image: busybox}]
  volumes: [{name: host, hostPath: {path: /var/log}}]
`,
		wantReason: "hostPath", wantTarget: "Pod",
	},
}

func TestClusterDeployJudgesPrivilegeByWhatItRenders(t *testing.T) {
	t.Parallel()
	d, env, root, ctx := clusterDeps(t)
	for _, pc := range privilegedCharts {
		dir := writeChart(t, root, pc.name, map[string]string{"templates/x.yaml": pc.template})
		args := DeployArgs{Release: pc.name, ChartPath: dir, Wait: noWait, Atomic: noWait}
		p := prepare(t, ctx, Deploy(d), args)
		if !slices.ContainsFunc(p.Privileged, func(s string) bool { return strings.Contains(s, pc.wantReason) }) {
			t.Errorf("%s: privileged = %q, want a reason with %q", pc.name, p.Privileged, pc.wantReason)
		}
		i := slices.IndexFunc(p.Targets, func(tg tools.Target) bool { return tg.Kind == pc.wantTarget })
		if i < 0 || (p.Targets[i].Namespace == "") != pc.clusterScoped {
			t.Errorf("%s: targets = %v, want a %s (cluster-scoped: %v)", pc.name, p.Targets, pc.wantTarget, pc.clusterScoped)
		}
		rec := call(t, ctx, yesGate(d, env.Namespace), NameDeploy, args)
		if !errors.Is(rec.Err(), tools.ErrApprovalRequired) || !strings.Contains(rec.Error, "--allow-privileged") {
			t.Errorf("%s under --yes: error = %v, want approval required naming --allow-privileged", pc.name, rec.Err())
		}
		releaseMissing(t, ctx, d, pc.name)
	}
}

func TestClusterUpgradeRisk(t *testing.T) {
	t.Parallel()
	d, _, root, ctx := clusterDeps(t)
	dir := writeChart(t, root, "cms", configMapChart)
	other := writeChart(t, root, "renamed", configMapChart)
	c, err := d.client("")
	if err != nil {
		t.Fatal(err)
	}
	// Revision 1: installed with a value the user set.
	first := DeployArgs{Release: "cms", ChartPath: dir, ValuesSet: []string{"note=kept"}, Wait: noWait, Atomic: noWait}
	raw, _ := json.Marshal(first)
	act, err := Deploy(d).Prepare(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if p := act.Preview(); p.Risk != tools.Read || len(p.Privileged) != 0 || len(p.Targets) != 2 {
		t.Errorf("install preview: risk %s, privileged %q, targets %v; want no raise, none, the two ConfigMaps", p.Risk, p.Privileged, p.Targets)
	}
	if _, err := act.Run(ctx); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		args     DeployArgs
		wantRisk tools.Risk
		wantText string
	}{
		{"change a value", DeployArgs{ValuesSet: []string{"note=changed"}}, tools.Read, ""},
		{"reuse values, add one", DeployArgs{ValuesSet: []string{"extra=1"}, ReuseValues: true}, tools.Read, ""},
		{"drop an object", DeployArgs{ValuesSet: []string{"note=kept", "b=false"}}, tools.Destructive, "deletes 1 object(s): ConfigMap/cms-b"},
		{"drop a user value", DeployArgs{ValuesSet: []string{"extra=1"}}, tools.Destructive, "resets values set on revision 1 to the chart's defaults: note"},
		{"replace the chart", DeployArgs{ChartPath: other, ValuesSet: []string{"note=kept"}}, tools.Destructive, "replaces chart cms-0.1.0 with renamed-0.1.0"},
	}
	for _, tt := range tests {
		a := tt.args
		a.Release, a.Wait, a.Atomic = "cms", noWait, noWait
		if a.ChartPath == "" {
			a.ChartPath = dir
		}
		p := prepare(t, ctx, Deploy(d), a)
		if p.Risk != tt.wantRisk || !strings.Contains(p.Summary, tt.wantText) {
			t.Errorf("%s: risk %s, summary %q; want %s with %q", tt.name, p.Risk, p.Summary, tt.wantRisk, tt.wantText)
		}
		if !p.NoChange && len(p.Targets) == 0 {
			t.Errorf("%s: no targets", tt.name)
		}
	}

	// Revision 2 drops cms-b; rolling back to 1 brings it back (a write),
	// and from 3 back to 2 removes it again (destructive).
	if _, err := c.Deploy(ctx, release.DeployOptions{ReleaseName: "cms", Chart: mustChart(t, d, dir), Values: release.Values{Set: []string{"note=kept", "b=false"}}}); err != nil {
		t.Fatal(err)
	}
	p := prepare(t, ctx, Rollback(d), RollbackArgs{Release: "cms", Revision: 1, Wait: noWait})
	if p.Risk != tools.Read || !slices.Contains(p.Targets, tools.Target{Kind: "ConfigMap", Namespace: d.Namespace, Name: "cms-b"}) {
		t.Errorf("rollback 2 → 1: risk %s, targets %v; want no raise, cms-b among the targets", p.Risk, p.Targets)
	}
	if _, err := c.Rollback(ctx, "cms", release.RollbackOptions{Revision: 1}); err != nil {
		t.Fatal(err)
	}
	p = prepare(t, ctx, Rollback(d), RollbackArgs{Release: "cms", Revision: 2, Wait: noWait})
	if p.Risk != tools.Destructive || !strings.Contains(p.Summary, "deletes 1 object(s) revision 2 lacks: ConfigMap/cms-b") {
		t.Errorf("rollback 3 → 2: risk %s, summary %q; want destructive, deleting cms-b", p.Risk, p.Summary)
	}

	// Uninstall targets the live objects.
	p = prepare(t, ctx, Uninstall(d), UninstallArgs{Release: "cms"})
	if len(p.Targets) != 2 || p.Targets[0].Namespace != d.Namespace {
		t.Errorf("uninstall targets = %v, want the two ConfigMaps in %s", p.Targets, d.Namespace)
	}
}

func mustChart(t *testing.T, d Deps, dir string) *chart.Chart {
	t.Helper()
	src, err := d.readSource(DeployArgs{ChartPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := src.chart()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestClusterTodoChartIsAnOrdinaryWrite installs the built-in chart the way
// `opsagent install -n NS --create-namespace --yes` does: into a namespace
// that does not exist yet, approved by --yes alone.
func TestClusterTodoChartIsAnOrdinaryWrite(t *testing.T) {
	t.Parallel()
	d, env, _, ctx := clusterDeps(t)
	ns := env.Namespace + "-new"
	t.Cleanup(func() {
		err := env.Client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", ns, err)
		}
	})
	args := DeployArgs{Namespace: ns, CreateNamespace: true, Wait: noWait, Atomic: noWait}
	p := prepare(t, ctx, Deploy(d), args)
	if p.Risk != tools.Read || len(p.Privileged) != 0 {
		t.Errorf("todo chart: risk %s, privileged %q; want a plain write", p.Risk, p.Privileged)
	}
	for _, tg := range p.Targets {
		if tg.Namespace != ns && tg != (tools.Target{Kind: "Namespace", Name: ns}) {
			t.Errorf("target %v is outside namespace %s", tg, ns)
		}
	}
	if !slices.Contains(p.Targets, tools.Target{Kind: "Pod", Namespace: ns, Name: "todo-chatbot-test"}) {
		t.Errorf("targets should include the test hook's pod: %v", p.Targets)
	}
	if !strings.Contains(p.Diff, "Hooks (run by Helm on these events):\n  Pod/todo-chatbot-test: test; delete policy before-hook-creation, hook-succeeded") {
		t.Errorf("preview should list the test hook:\n%s", p.Diff)
	}

	g := yesGate(d, ns)
	g.Scope.CreateNamespace = ns
	rec := call(t, ctx, g, NameDeploy, args)
	if rec.Err() != nil || rec.Risk != tools.Write || len(rec.Privileged) != 0 {
		t.Fatalf("install under --yes: risk %s, privileged %q, error %v", rec.Risk, rec.Privileged, rec.Err())
	}
	if _, err := env.Client.AppsV1().Deployments(ns).Get(ctx, "todo-chatbot-backend", metav1.GetOptions{}); err != nil {
		t.Errorf("backend deployment: %v\nrecord: %+v\nresult: %+v", err, rec, rec.Result)
	}
}

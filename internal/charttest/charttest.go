// Package charttest installs this repository's charts in tests the way
// `opsagent install NAME charts/CHART --yes` does: helm_deploy through the
// one gate, on the test cluster.
package charttest

import (
	"path/filepath"
	"runtime"
	"testing"

	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/session"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
	"github.com/opsagent/opsagent/internal/tools/toolstest"
	"github.com/opsagent/opsagent/internal/toolset"
)

// Dir is the absolute path of charts/NAME in this repository.
func Dir(t testing.TB, name string) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("charttest: cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "charts", name)
}

// Lint runs `helm lint` on chart with values and fails t on any warning or
// error.
func Lint(t testing.TB, chart string, values map[string]any) {
	t.Helper()
	for _, m := range lint.AllWithKubeVersion(chart, values, "opsagent", nil).Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint %s: %s", filepath.Base(chart), m)
		}
	}
}

// Install installs chart as release into e's namespace with --set values
// set, through the gate with --yes (and --allow-privileged when the chart
// creates RBAC objects), without waiting for pods.
func Install(t testing.TB, e *testcluster.Env, chart, release string, privileged bool, set ...string) {
	t.Helper()
	clients, err := kube.NewClients(e.Getter())
	if err != nil {
		t.Fatal(err)
	}
	ts := toolset.New(clients, toolset.Options{Helm: releasetools.Options{ChartRoots: []string{chart}, RootsFlag: "the CHART_DIR of install"}})
	gate := session.NewGate(tools.NewRegistry(ts...), clients, session.GateSettings{
		Yes: true, AllowPrivileged: privileged, AuditLog: filepath.Join(t.TempDir(), "audit.log"),
	})
	no := false
	toolstest.MustCall(t, gate, releasetools.NameDeploy, releasetools.DeployArgs{
		Release: release, ChartPath: chart, Namespace: e.Namespace, Atomic: &no, Wait: &no, ValuesSet: set,
	})
}

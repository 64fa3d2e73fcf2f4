package testcluster

import (
	"os"
	"testing"
)

// RequireMetricsAPI skips t (fails it under CI) when the test cluster
// serves no metrics.k8s.io: a sandbox started by a build from before
// metrics-server was part of it.
func (e *Env) RequireMetricsAPI(t testing.TB) {
	t.Helper()
	if _, err := e.Client.Discovery().ServerResourcesForGroupVersion("metrics.k8s.io/v1beta1"); err != nil {
		SkipOrFail(t, "the test cluster serves no metrics.k8s.io ("+err.Error()+"); restart the sandbox with this build (opsagent sandbox down && opsagent sandbox up)")
	}
}

// SkipOrFail fails t under CI, where everything a test needs must be
// installed (.ci/run runs hack/install-test-deps.sh), and skips it
// elsewhere with msg saying what to install.
func SkipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/sandbox"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/version"
)

// TestBuiltBinary builds opsagent stamped as hack/release.sh stamps it (with
// `make build`'s flags, so the build cache is shared) and checks what only a
// real binary shows: the link-time stamp and the library versions in
// `version -o json`, and kubectl finding and running it as a plugin.
func TestBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the opsagent binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kubectl-opsagent")
	const pkg = "github.com/opsagent/opsagent/internal/version"
	want := version.Info{
		Version:   "v9.8.7",
		Commit:    "fedcba9876543210fedcba9876543210fedcba98",
		BuildDate: "2026-01-02T03:04:05Z",
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		ClientGo:  requiredVersion(t, "k8s.io/client-go"),
		Helm:      requiredVersion(t, "helm.sh/helm/v3"),
	}
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X "+pkg+".Version="+want.Version+" -X "+pkg+".Commit="+want.Commit+" -X "+pkg+".Date="+want.BuildDate,
		"-o", bin, "../../cmd/opsagent")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(name string, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(name, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}

	if got := decodeVersion(t, run(bin, "version", "-o", "json")); got != want {
		t.Errorf("version -o json =\n %#v\nwant\n %#v", got, want)
	}

	// kubectl's completion helper name: a symlink, as the README says to make.
	complete := filepath.Join(dir, pluginCompleteName)
	if err := os.Symlink(bin, complete); err != nil {
		t.Fatal(err)
	}
	if out := run(complete, "diag"); !strings.Contains(out, "diagnose") {
		t.Errorf("%s diag = %q, want diagnose offered", pluginCompleteName, out)
	}

	// Through kubectl's plugin discovery (PATH lookup of kubectl-opsagent).
	kubectl := filepath.Join(sandbox.DefaultBinDir(), "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		msg := "kubectl not built (make cluster builds it): " + err.Error()
		testcluster.SkipOrFail(t, msg)
	}
	if out := run(kubectl, "plugin", "list", "--name-only"); !strings.Contains(out, "kubectl-opsagent") {
		t.Errorf("kubectl plugin list does not show kubectl-opsagent:\n%s", out)
	}
	if got := decodeVersion(t, run(kubectl, "opsagent", "version", "-o", "json")); got != want {
		t.Errorf("kubectl opsagent version -o json =\n %#v\nwant\n %#v", got, want)
	}
	if out := run(kubectl, "opsagent", "diagnose", "--help"); !strings.Contains(out, "kubectl opsagent diagnose") {
		t.Errorf("kubectl opsagent diagnose --help does not name the kubectl command:\n%s", out)
	}

	env := testcluster.New(t)
	out := run(kubectl, "opsagent", "diagnose", "-n", env.Namespace, "--kubeconfig", env.Kubeconfig)
	if !strings.Contains(out, env.Namespace) {
		t.Errorf("kubectl opsagent diagnose -n %s printed:\n%s", env.Namespace, out)
	}
}

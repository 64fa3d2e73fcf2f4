package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/preflight"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// runPreflight runs `opsagent preflight args...` against kubeconfig and
// returns the exit code, stdout and stderr.
func runPreflight(t *testing.T, kubeconfig, server string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &kubeconfig
	if server != "" {
		flags.APIServer = &server
	}
	cmd := NewCmdPreflight(&GlobalOptions{ConfigFlags: flags}, streams)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return BadInput(err) })
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.ExecuteContext(context.Background())
	return exitCode(err, &errOut), out.String(), errOut.String()
}

func TestPreflightCommand(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	valuesFile := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(valuesFile, []byte("ingress:\n  enabled: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		server   string
		wantCode int
		want     []string // substrings of stdout
		wantErr  string   // substring of stderr
	}{
		{name: "passes on the sandbox", wantCode: ExitOK, want: []string{"CHECK", "kubernetes-version", "ok", "All checks passed."}},
		{name: "values file", args: []string{"-f", valuesFile}, wantCode: ExitOK, want: []string{"ingress disabled"}},
		{
			name: "too many replicas", args: []string{"--set", "frontend.replicaCount=100000"}, wantCode: ExitFailed,
			want:    []string{"resources", "FAIL", "not enough CPU and memory", "fix resources:", "minikube delete && minikube start --cpus"},
			wantErr: "preflight checks failed",
		},
		{
			name: "missing storage class", args: []string{"--set", "postgresql.persistence.storageClass=no-such-class"}, wantCode: ExitFailed,
			want: []string{"missing StorageClass no-such-class", "--set postgresql.persistence.storageClass=standard"},
		},
		{
			name: "unreachable cluster", server: "https://127.0.0.1:1", wantCode: ExitFailed,
			want: []string{"cluster-reachable", "FAIL", "minikube start --cpus 2 --memory 4096"},
		},
		{name: "bad output", args: []string{"-o", "yaml"}, wantCode: ExitBadInput, wantErr: badOutput("preflight")},
		{name: "values the chart rejects", args: []string{"--set", "frontend.replicaCount=-1"}, wantCode: ExitBadInput, wantErr: "render chart"},
		{name: "missing values file", args: []string{"-f", "/no/such/values.yaml"}, wantCode: ExitBadInput, wantErr: "values:"},
		{name: "unknown flag", args: []string{"--bogus"}, wantCode: ExitBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runPreflight(t, env.Kubeconfig, tt.server, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errOut)
			}
		})
	}
}

func TestPreflightCommandJSON(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	code, out, errOut := runPreflight(t, env.Kubeconfig, "", "-o", "json", "--set", "backend.replicaCount=100000")
	if code != ExitFailed {
		t.Fatalf("exit code = %d, want %d; stderr %s", code, ExitFailed, errOut)
	}
	if errOut != "" {
		t.Errorf("json mode wrote to stderr: %q", errOut)
	}
	var rep preflight.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not a report: %v\n%s", err, out)
	}
	if rep.Passed || len(rep.Checks) != 5 {
		t.Fatalf("report = %+v", rep)
	}
	for _, c := range rep.Checks {
		if wantOK := c.Name != preflight.CheckResources; c.OK != wantOK {
			t.Errorf("check %s ok = %v, want %v (%s)", c.Name, c.OK, wantOK, c.Detail)
		}
		if !c.OK && c.Fix == "" {
			t.Errorf("failed check %s has no fix", c.Name)
		}
	}
}

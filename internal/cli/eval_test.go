package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// The suite kept in the repository.
const evalSuite = "../../eval/tasks"

func TestEvalBadInput(t *testing.T) {
	isolateEnv(t)
	// Never contacted: every case fails before eval reaches the cluster.
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no folder", []string{"eval", filepath.Join(t.TempDir(), "nope"), "--model-script"}, "read task folder"},
		{"unknown task", []string{"eval", evalSuite, "--model-script", "--task", "nope"}, `no task "nope"`},
		{"no model", []string{"eval", evalSuite}, "no model"},
		{"bad output", []string{"eval", evalSuite, "--model-script", "-o", "yaml"}, "--output"},
		{"bad repeat", []string{"eval", evalSuite, "--model-script", "--repeat", "0"}, "--repeat"},
		{"bad timeout", []string{"eval", evalSuite, "--model-script", "--task-timeout", "0s"}, "--task-timeout"},
		{"no folder argument", []string{"eval"}, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", append(tt.args, "--kubeconfig", kubeconfig)...)
			if r.code != ExitBadInput || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, ExitBadInput, tt.want)
			}
		})
	}
}

func TestWithNamespace(t *testing.T) {
	f := genericclioptions.NewConfigFlags(true)
	kc, ctx, ns := "/k", "ctx", "default"
	f.KubeConfig, f.Context, f.Namespace = &kc, &ctx, &ns
	got := withNamespace(f, "eval-x")
	if *got.KubeConfig != "/k" || *got.Context != "ctx" || *got.Namespace != "eval-x" || *f.Namespace != "default" {
		t.Fatalf("withNamespace: kubeconfig %q context %q namespace %q (original now %q)",
			*got.KubeConfig, *got.Context, *got.Namespace, *f.Namespace)
	}
}

package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/testcluster"
)

// noCluster leaves the commands no cluster: KUBECONFIG names a file that
// does not exist, and neither the test cluster's variable nor the in-cluster
// ones are set. client-go skips a missing KUBECONFIG file and would build
// clients for localhost:8080, so the flags it returns also name a missing
// --kubeconfig, which makes building any client fail (exit 1, "load
// kubeconfig"). It uses t.Setenv, so callers are not parallel.
func noCluster(t *testing.T) (flags []string) {
	t.Helper()
	isolateEnv(t)
	missing := filepath.Join(t.TempDir(), "missing-kubeconfig")
	t.Setenv("KUBECONFIG", missing)
	for _, k := range []string{testcluster.KubeconfigEnv, "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBERNETES_MASTER"} {
		t.Setenv(k, "")
	}
	return []string{"--kubeconfig", missing}
}

// Every command with flags reports bad input as exit 2 with an error naming
// the bad flag or value, before it builds a client or reads the cluster.
func TestEveryCommandBadInputBeforeClients(t *testing.T) {
	kubeconfig := noCluster(t)
	tests := []struct {
		name string
		args []string
		want string // in stderr: the bad flag or value
	}{
		{"agent output", []string{"list pods", "-o", "yaml"}, badOutput("opsagent")},
		{"agent max steps", []string{"list pods", "--max-steps", "0"}, "--max-steps"},
		{"diagnose output", []string{"diagnose", "-o", "yaml"}, badOutput("diagnose")},
		{"diagnose kind", []string{"diagnose", "--kind", "Gizmo"}, "--kind"},
		{"explain output", []string{"explain", "backend", "-o", "yaml"}, badOutput("explain")},
		{"install timeout", []string{"install", "--timeout", "2h"}, "--timeout"},
		{"status output", []string{"status", "-o", "yaml"}, badOutput("status")},
		{"history output", []string{"history", "-o", "yaml"}, badOutput("history")},
		{"install output", []string{"install", "-o", "yaml"}, badOutput("install")},
		{"rollback output", []string{"rollback", "todo-chatbot", "-o", "yaml"}, badOutput("rollback")},
		{"watch output", []string{"watch", "-o", "yaml"}, badOutput("watch")},
		{"sandbox up output", []string{"sandbox", "up", "-o", "yaml"}, badOutput("sandbox up")},
		{"rollback timeout", []string{"rollback", "todo-chatbot", "--timeout", "2h"}, "--timeout"},
		{"uninstall output", []string{"uninstall", "todo-chatbot", "-o", "yaml"}, badOutput("uninstall")},
		{"preflight output", []string{"preflight", "-o", "yaml"}, badOutput("preflight")},
		{"eval repeat", []string{"eval", evalSuite, "--model-script", "--repeat", "0"}, "--repeat"},
		{"eval output", []string{"eval", evalSuite, "--model-script", "-o", "yaml"}, badOutput("eval")},
		{"create secret output", []string{"create", "secret", "s", "--generate", "key", "-o", "yaml"}, badOutput("create secret")},
		{"create configmap output", []string{"create", "configmap", "c", "--from-literal", "a=b", "-o", "yaml"}, badOutput("create configmap")},
		{"create configmap literal", []string{"create", "configmap", "c", "--from-literal", "novalue"}, "--from-literal"},
		{"create secret generate length", []string{"create", "secret", "s", "--generate", "key=long"}, "--generate"},
		{"top resource", []string{"top", "services"}, `"services"`},
		{"install release name", []string{"install", "Not_Valid"}, "Not_Valid"},
		{"agent request and file", []string{"list pods", "-f", "requests.txt"}, "-f FILE"},
		{"mcp http address", []string{"mcp", "--http", "8931"}, "--http"},
		{"mcp unknown tool", []string{"mcp", "--tools", "no_such_tool"}, "no_such_tool"},
		// The flags are checked before the configuration and the folders are read.
		{"mcp flags before files", []string{"mcp", "--chart-dir", "/nonexistent", "--http", "8931"}, "--http"},
		{"top sort", []string{"top", "--sort", "sideways"}, "--sort"},
		{"top output", []string{"top", "-o", "yaml"}, badOutput("top")},
		{"recommend window", []string{"recommend", "--window", "forever"}, "--window"},
		{"recommend output", []string{"recommend", "-o", "yaml"}, badOutput("recommend")},
		{"recommend prometheus url", []string{"recommend", "--prometheus-url", "prometheus:9090"}, "--prometheus-url"},
		{"recommend -A with a workload", []string{"recommend", "backend", "-A"}, "-A"},
		{"serve address", []string{"serve", "--addr", "localhost"}, "--addr"},
		{"watch interval", []string{"watch", "--interval", "100ms"}, "--interval"},
		{"version output", []string{"version", "-o", "yaml"}, badOutput("version")},
		{"sandbox up nodes", []string{"sandbox", "up", "--nodes", "0"}, "--nodes"},
		{"sandbox status output", []string{"sandbox", "status", "-o", "yaml"}, badOutput("sandbox status")},
		{"sandbox down purge", []string{"sandbox", "down", "--purge=maybe"}, "--purge"},
		{"sandbox kubeconfig path", []string{"sandbox", "kubeconfig", "--path=maybe"}, "--path"},
	}
	root := NewRootCmd(genericiooptions.IOStreams{})
	var covered []string
	for _, tt := range tests {
		cmd, _, err := root.Find(tt.args)
		if err != nil {
			t.Fatalf("%s: no command for %q: %v", tt.name, tt.args, err)
		}
		covered = append(covered, cmd.CommandPath())
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", append(tt.args, kubeconfig...)...)
			if r.code != ExitBadInput || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d naming %s", r.code, r.stderr, ExitBadInput, tt.want)
			}
			if strings.Contains(strings.ToLower(r.stderr), "kubeconfig") {
				t.Errorf("stderr %q is about the kubeconfig: a client was built before the input was checked", r.stderr)
			}
		})
	}
	// A new command with flags needs a case here.
	walkCommands(root, func(c *cobra.Command) {
		if !c.Hidden && c.LocalNonPersistentFlags().HasFlags() && !slices.Contains(covered, c.CommandPath()) {
			t.Errorf("%s has flags but no bad-input case", c.CommandPath())
		}
	})
}

// badOutput is the error of every command for -o yaml.
func badOutput(command string) string {
	return `--output "yaml": not supported by ` + command + `; use text or json`
}

func walkCommands(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walkCommands(sub, fn)
	}
}

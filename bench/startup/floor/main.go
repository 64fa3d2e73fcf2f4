// Command floor is the start-up floor of a client-go command-line tool: a
// cobra command with kubectl's connection flags that links client-go's
// typed, dynamic, metadata and discovery clients, and nothing else of
// opsagent's (no Helm SDK, Prometheus client or MCP SDK). bench/startup
// builds it as a release is built and times its `--help` beside opsagent's:
// the gap between the two is what moving those libraries out of the binary
// could save at most, and the gap between it and a hello-world program is
// client-go's own share. See docs/performance.md, "Start-up".
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
)

// The clients opsagent builds for every cluster command; referenced so
// that they are linked, as they are in opsagent.
var _ = []any{kubernetes.NewForConfig, dynamic.NewForConfig, metadata.NewForConfig, discovery.NewDiscoveryClientForConfig}

func main() {
	cmd := &cobra.Command{Use: "floor", Short: "The start-up floor of a client-go CLI", Run: func(*cobra.Command, []string) {}}
	genericclioptions.NewConfigFlags(true).AddFlags(cmd.PersistentFlags())
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

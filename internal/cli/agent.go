package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// addAgentCommand makes the root command run the agent on its arguments.
// (Owned by the agent work; replaced there.)
func addAgentCommand(root *cobra.Command, g *GlobalOptions, streams genericiooptions.IOStreams) {
	root.RunE = func(cmd *cobra.Command, args []string) error {
		return cmd.Help()
	}
}

package cli

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// Names under which the one opsagent binary is also installed for kubectl:
// kubectl runs `kubectl opsagent ...` by finding kubectl-opsagent on PATH (krew
// installs that symlink), and kubectl 1.26+ completes a plugin's arguments by
// running kubectl_complete-opsagent with the words typed so far.
const (
	pluginName         = "kubectl-opsagent"
	pluginCompleteName = "kubectl_complete-opsagent"
	pluginDisplayName  = "kubectl opsagent"
)

// adaptToInvocationName makes root behave as the name it was run under
// (argv[0]): as a kubectl plugin, help and usage say "kubectl opsagent" so
// that the commands they suggest work as typed; as the completion helper, it
// answers cobra's hidden __complete command with the remaining arguments.
func adaptToInvocationName(root *cobra.Command, argv []string) {
	if len(argv) == 0 {
		return
	}
	name := strings.TrimSuffix(filepath.Base(argv[0]), ".exe")
	if name != pluginName && name != pluginCompleteName {
		return
	}
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cobra.CommandDisplayNameAnnotation] = pluginDisplayName
	if name == pluginCompleteName {
		root.SetArgs(append([]string{cobra.ShellCompRequestCmd}, argv[1:]...))
	}
}

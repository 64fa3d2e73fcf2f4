// Package toolset is the one list of tools every surface offers: the agent
// command, `opsagent serve` and `opsagent mcp` build their registry here, so
// a tool added once is reachable (and gated) everywhere.
package toolset

import (
	"slices"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/configtools"
	"github.com/opsagent/opsagent/internal/tools/diagtools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
	"github.com/opsagent/opsagent/internal/tools/nodetools"
	"github.com/opsagent/opsagent/internal/tools/objecttools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
	"github.com/opsagent/opsagent/internal/tools/usagetools"
)

// Options shape the tools that read local files (Helm charts).
type Options struct {
	Helm releasetools.Options
}

// New returns every tool, bound to the clients of one caller.
func New(c *kube.Clients, o Options) []tools.Tool {
	return slices.Concat(
		kubetools.New(c),
		diagtools.New(c),
		releasetools.New(c.Getter, c.Namespace, o.Helm),
		nodetools.New(c),
		configtools.New(c),
		objecttools.New(c),
		usagetools.New(c),
	)
}

// ReadOnly keeps the tools that never change the cluster: what a
// --read-only server offers.
func ReadOnly(ts []tools.Tool) []tools.Tool {
	return slices.DeleteFunc(slices.Clone(ts), func(t tools.Tool) bool { return t.Risk().Mutates() })
}

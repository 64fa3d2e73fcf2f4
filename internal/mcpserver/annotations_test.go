package mcpserver

import (
	"testing"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/toolset"
)

// TestAnnotationTables keeps the hint tables in step with the registry: a
// renamed or re-risked tool fails here instead of silently losing its hint.
func TestAnnotationTables(t *testing.T) {
	t.Parallel()
	risk := map[string]tools.Risk{}
	for _, tool := range toolset.New(&kube.Clients{}, toolset.Options{}) {
		risk[tool.Name()] = tool.Risk()
	}
	for name, table := range map[string]map[string]bool{"raisedToDestructive": raisedToDestructive, "idempotentWrites": idempotentWrites} {
		for tool := range table {
			r, ok := risk[tool]
			switch {
			case !ok:
				t.Errorf("%s names %s, which is not in the registry", name, tool)
			case r != tools.Write:
				t.Errorf("%s names %s, whose risk is %s: the table is for write tools", name, tool, r)
			}
		}
	}
}

package mcpserver

import (
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opsagent/opsagent/internal/tools"
)

// raisedToDestructive are the write tools whose preview can raise a call to
// destructive (docs/risk.md, "Raised to destructive"): scaling to 0, an
// apply or patch that removes or zeroes something, an upgrade or rollback
// that deletes objects or resets values, a Secret key whose value is
// replaced. destructiveHint is a "may": these say true although their base
// risk is write. The gate judges each call from its preview whatever the
// hint says; TestAnnotationTables keeps these names in the registry.
var raisedToDestructive = map[string]bool{
	"scale_workload": true, "apply_objects": true, "patch_object": true,
	"helm_deploy": true, "helm_rollback": true, "create_secret": true,
}

// idempotentWrites are the write tools that set a declared state and
// preview "no change needed" when it already holds, so a repeated call
// changes nothing more. Not listed: restart_workload and rollback_deployment
// (each call acts again), patch_object (a JSON patch may append),
// create_secret (generated values), helm_deploy and helm_rollback (each
// makes a revision).
var idempotentWrites = map[string]bool{
	"scale_workload": true, "set_image": true, "set_resources": true, "set_env": true,
	"expose": true, "autoscale": true, "resize_pvc": true, "cordon_node": true,
	"uncordon_node": true, "apply_objects": true, "create_configmap": true,
}

// declareTool describes t to MCP clients from its own declaration: the
// name, description and argument schema the agent loop uses (the full
// schema, not the agent's compacted copy: a client shows it to people too),
// and annotations derived from its risk.
func declareTool(t tools.Tool) *mcp.Tool {
	desc := t.Description()
	switch t.Risk() {
	case tools.Write:
		desc += " Changes the cluster: previewed, then needs approval."
	case tools.Destructive:
		desc += " Destructive: previewed, then needs approval and the server's --allow-destructive."
	}
	return &mcp.Tool{
		Name:        t.Name(),
		Title:       title(t.Name()),
		Description: desc,
		InputSchema: t.Schema(),
		Annotations: annotations(t),
	}
}

// annotations are the hints a client shows or acts on (many ask before a
// non-read-only tool). openWorldHint is false for every tool: each acts on
// the one cluster the server's credentials name and reaches nothing else —
// no web, no other hosts. What the cluster holds (logs, events,
// annotations) is still third-party text; that is why every result is
// redacted and no result can approve anything.
func annotations(t tools.Tool) *mcp.ToolAnnotations {
	a := &mcp.ToolAnnotations{Title: title(t.Name()), OpenWorldHint: ptr(false)}
	switch t.Risk() {
	case tools.Read:
		a.ReadOnlyHint = true
		a.DestructiveHint = ptr(false)
		a.IdempotentHint = true
	case tools.Write:
		a.DestructiveHint = ptr(raisedToDestructive[t.Name()])
		a.IdempotentHint = idempotentWrites[t.Name()]
	default: // destructive, and any level above it
		a.DestructiveHint = ptr(true)
	}
	return a
}

// title turns "scale_workload" into "Scale workload".
func title(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func ptr[T any](v T) *T { return &v }

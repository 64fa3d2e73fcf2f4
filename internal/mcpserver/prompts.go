package mcpserver

import (
	"context"
	"fmt"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// addPrompts adds the prompt a user reaches for first — "what is wrong in
// this namespace?" — when the tools it needs are served. Clients show
// prompts as commands (/diagnose_namespace); the prompt only words the
// request, the tools do the work through the gate.
func addPrompts(s *mcp.Server, d declared) {
	if !slices.Contains(d.names, "diagnose") {
		return
	}
	s.AddPrompt(&mcp.Prompt{
		Name:        "diagnose_namespace",
		Title:       "Diagnose a namespace",
		Description: "Find what is failing in a namespace and why, with the evidence, and suggest fixes without making them.",
		Arguments: []*mcp.PromptArgument{
			{Name: "namespace", Description: "Namespace to diagnose (default: the server's namespace)"},
		},
	}, func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		where := "the default namespace"
		if ns := req.Params.Arguments["namespace"]; ns != "" {
			where = fmt.Sprintf("namespace %q", ns)
		}
		text := fmt.Sprintf("Diagnose %s with opsagent: call the diagnose tool, then pod_logs or list_events only where a finding needs more evidence. "+
			"Report each problem with its root cause first, the evidence, and the fix you suggest. Do not change anything: if a fix needs a change, say which tool call would make it and let me decide.", where)
		return &mcp.GetPromptResult{
			Description: "Diagnose " + where,
			Messages:    []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: text}}},
		}, nil
	})
}

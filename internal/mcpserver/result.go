package mcpserver

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/tools"
)

// toolResult turns a gate record into what the client sees: the text the
// agent loop's model would see (redacted, then capped) and the same JSON as
// structured content. Anything that did not succeed — bad arguments, a
// refusal, a decline, a failed run — is a tool error (isError), not a
// protocol error, so the client's model can read why and tell the user.
func toolResult(rec *tools.Record, res agent.ToolResult, canAsk bool, namespace string) *mcp.CallToolResult {
	out := &mcp.CallToolResult{IsError: rec.Err() != nil}
	if hint := approvalHint(rec.Err(), canAsk, namespace); hint != "" {
		out.Content = append(out.Content, &mcp.TextContent{Text: hint})
	}
	out.Content = append(out.Content, &mcp.TextContent{Text: res.Text})
	out.StructuredContent = structured(res)
	return out
}

// structured is the redacted record as a JSON object. When the text had to
// be cut, the result is left out of it (a cut JSON document is no JSON) and
// the object says so: the text still carries the first part.
func structured(res agent.ToolResult) any {
	if !res.Truncated {
		return json.RawMessage(res.JSON)
	}
	var m map[string]any
	if err := json.Unmarshal(res.JSON, &m); err != nil {
		return nil
	}
	delete(m, "result")
	m["truncated"] = fmt.Sprintf("the result is %d bytes, over this server's cap; its first part is in the text content. Narrow the call (namespace, selector, limit, tail) to see all of it", len(res.JSON))
	return m
}

// approvalHint says how a refused change can be approved from here: the
// gate's message names the CLI flag, and on MCP that flag belongs to the
// server, not to any argument.
func approvalHint(err error, canAsk bool, namespace string) string {
	if !errors.Is(err, tools.ErrApprovalRequired) {
		return ""
	}
	const noArg = " No tool argument can approve a change."
	if !canAsk {
		return fmt.Sprintf("This change needs approval, and this MCP client cannot ask a person (it did not declare the elicitation capability). "+
			"Approve it with a client that supports elicitation, or by the server's own flags: restart `opsagent mcp` with --yes to approve changes in namespace %q (its -n) without asking, "+
			"plus --allow-destructive or --allow-privileged where the message below names them.", namespace) + noArg
	}
	return "This change needs a flag of the server, which no answer to the approval question replaces: restart `opsagent mcp` with the flag the message below names (--allow-destructive, --allow-privileged, or -n for another namespace)." + noArg
}

// errorResult is a tool error with a message and nothing else.
func errorResult(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}

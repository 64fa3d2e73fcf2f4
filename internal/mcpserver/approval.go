package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/session"
	"github.com/opsagent/opsagent/internal/tools"
)

// approveField is the one field of the approval form. Approval needs an
// explicit true: a client that accepts the form with its defaults, or
// answers decline or cancel, approves nothing.
const approveField = "approve"

// approvalSchema asks one yes/no question.
var approvalSchema = json.RawMessage(`{
  "type": "object",
  "properties": {
    "` + approveField + `": {
      "type": "boolean",
      "title": "Apply this change",
      "description": "Apply exactly the change shown above. If the objects change before it is applied, nothing is applied and you are asked again.",
      "default": false
    }
  },
  "required": ["` + approveField + `"]
}`)

// maxApprovalText bounds the elicitation message: a long diff (a Helm
// upgrade) is cut, and the message says so.
const maxApprovalText = 32 << 10

// canElicit reports whether the client declared form elicitation in
// initialize: only then can a person be asked through it.
func canElicit(ss *mcp.ServerSession) bool {
	if ss == nil {
		return false
	}
	p := ss.InitializeParams()
	if p == nil || p.Capabilities == nil || p.Capabilities.Elicitation == nil {
		return false
	}
	e := p.Capabilities.Elicitation
	// {} means form for clients older than 2025-11-25.
	return e.Form != nil || e.URL == nil
}

// elicitApproval is the gate's Ask for one call: it shows the person what
// the gate would approve — the preview, targets, privilege reasons, masked
// arguments and diff — and approves only an explicit yes. The gate calls it
// after previewing and again after any re-plan, so what is approved is
// always the preview the person saw.
func elicitApproval(ss *mcp.ServerSession, red *redact.Redactor) func(context.Context, tools.ApprovalRequest) (bool, error) {
	return func(ctx context.Context, req tools.ApprovalRequest) (bool, error) {
		res, err := ss.Elicit(ctx, &mcp.ElicitParams{
			Mode:            "form",
			Message:         approvalMessage(req, red),
			RequestedSchema: approvalSchema,
		})
		if err != nil {
			return false, fmt.Errorf("elicitation: %w", err)
		}
		if res.Action != "accept" {
			return false, nil
		}
		approved, _ := res.Content[approveField].(bool)
		return approved, nil
	}
}

// approvalMessage is the text of the elicitation. The preview's text comes
// from the cluster, so it is redacted like every result (an MCP client may
// hand the message to its model); arguments are masked by key name and
// pattern, as on the terminal.
func approvalMessage(req tools.ApprovalRequest, red *redact.Redactor) string {
	req.Preview.Summary = red.Redact(req.Preview.Summary)
	req.Preview.Diff = red.Redact(req.Preview.Diff)
	var b strings.Builder
	b.WriteString("opsagent asks before it changes the cluster.\n")
	b.WriteString(strings.TrimPrefix(session.ApprovalText(req, session.MaskArgs), "\n"))
	text := b.String()
	if cut := redact.Truncate(text, maxApprovalText); len(cut) < len(text) {
		text = cut + fmt.Sprintf("\n[diff cut at %d of %d bytes]\n", len(cut), len(text))
	}
	return text
}

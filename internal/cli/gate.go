package cli

import (
	"encoding/json"

	"github.com/opsagent/opsagent/internal/session"
	"github.com/opsagent/opsagent/internal/termsafe"
	"github.com/opsagent/opsagent/internal/tools"
)

// approvalPrompt is what a person approves on the terminal: the text every
// surface shows (session.ApprovalText; MCP elicitation shows the same).
func approvalPrompt(req tools.ApprovalRequest, mask func(json.RawMessage) json.RawMessage) string {
	return session.ApprovalText(req, mask)
}

// terminalSafe drops control characters (ANSI escapes included) from text
// that comes from the cluster or a model, so it cannot rewrite the screen
// a person approves from; every renderer shares termsafe.Text.
var terminalSafe = termsafe.Text

package session

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opsagent/opsagent/internal/termsafe"
	"github.com/opsagent/opsagent/internal/tools"
)

// ApprovalText is what a person approves, on whatever surface asks them (a
// terminal prompt, an MCP elicitation): the tool, its effective risk, every
// argument (secret-looking values masked by mask), what it touches, why it
// is privileged or outside the request's scope, and the diff. Text from the
// cluster or a model is stripped of control characters, so it cannot
// rewrite the screen the person approves from.
func ApprovalText(req tools.ApprovalRequest, mask func(json.RawMessage) json.RawMessage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s (%s): %s\n", req.Tool, req.Risk, termsafe.Text(req.Preview.Summary))
	args := req.Args
	if mask != nil {
		args = mask(args)
	}
	fmt.Fprintf(&b, "  arguments: %s\n", termsafe.Text(string(args)))
	for _, t := range req.Preview.Targets {
		fmt.Fprintf(&b, "  changes:   %s\n", termsafe.Text(t.String()))
	}
	for _, why := range req.Privileged {
		fmt.Fprintf(&b, "  privileged: %s\n", termsafe.Text(why))
	}
	if len(req.OutOfScope) > 0 {
		fmt.Fprintf(&b, "  outside this request's namespace %q: ", req.Scope.Namespace)
		for i, t := range req.OutOfScope {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(termsafe.Text(t.String()))
		}
		b.WriteString("\n")
	}
	if req.Preview.Diff != "" {
		b.WriteString(termsafe.Text(req.Preview.Diff) + "\n")
	}
	return b.String()
}

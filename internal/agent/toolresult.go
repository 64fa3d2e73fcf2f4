package agent

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/tools"
)

// ToolResult is what a model is shown of one call through the gate.
type ToolResult struct {
	// Text is the redacted JSON of the record, cut at the byte cap with a
	// note saying so.
	Text string
	// JSON is the whole redacted JSON (valid JSON, not cut).
	JSON []byte
	// Truncated is set when Text is shorter than JSON.
	Truncated bool
}

// ModelResult shapes rec for a model: the Secrets of the namespaces args
// name are loaded into red, the record's JSON is redacted, and only then
// cut to maxBytes (a value cut in two no longer matches its needle). Every
// surface whose tool results reach a model uses it — this loop and
// `opsagent mcp` — so both redact and cap alike. red may be nil (patterns
// and key-name rules only).
func ModelResult(ctx context.Context, red *redact.Redactor, rec *tools.Record, args json.RawMessage, maxBytes int) ToolResult {
	for _, ns := range NamespacesIn(args) {
		_ = red.LoadNamespace(ctx, ns) // logged inside; patterns still apply
	}
	full := red.RedactJSON(toolContent(rec))
	text := string(full)
	cut := redact.Truncate(text, maxBytes)
	if len(cut) == len(text) {
		return ToolResult{Text: text, JSON: full}
	}
	note := fmt.Sprintf("\n[output truncated: showed %d of %d bytes; narrow the call (namespace, selector, limit, tail) to see more]", len(cut), len(text))
	return ToolResult{Text: cut + note, JSON: full, Truncated: true}
}

package agent

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/template"

	openai "github.com/sashabaranov/go-openai"
	"github.com/sashabaranov/go-openai/jsonschema"

	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/prompts"
)

// PromptData fills the system prompt template.
type PromptData struct {
	// Context is the kube context name.
	Context string
	// Namespace is the default namespace.
	Namespace string
}

// SystemPrompt renders prompts/system.md for the given context.
func SystemPrompt(data PromptData) (string, error) {
	if data.Context == "" {
		data.Context = "(none)"
	}
	if data.Namespace == "" {
		data.Namespace = "default"
	}
	tmpl, err := template.New("system.md").Option("missingkey=error").Parse(prompts.System())
	if err != nil {
		return "", fmt.Errorf("parse system prompt: %w", err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render system prompt: %w", err)
	}
	return b.String(), nil
}

// ToolDefinitions describes the registry's tools to the model. The risk is
// stated in each description so the model knows which calls need approval;
// the Gate enforces it whatever the model believes.
//
// Every request carries these schemas, so they are compacted for the model
// (see compactForModel); the tools' own schemas, used for strict decoding,
// are unchanged.
func ToolDefinitions(reg *tools.Registry) []openai.Tool {
	defs := make([]openai.Tool, 0, len(reg.Names()))
	for _, t := range reg.Tools() {
		desc := t.Description()
		switch t.Risk() {
		case tools.Write:
			desc = "[write] " + desc
		case tools.Destructive:
			desc = "[destructive] " + desc
		}
		defs = append(defs, openai.Tool{
			Type:     openai.ToolTypeFunction,
			Function: &openai.FunctionDefinition{Name: t.Name(), Description: desc, Parameters: compactForModel(t.Schema())},
		})
	}
	return defs
}

// commonArgs are the arguments whose meaning is the same in every tool; the
// system prompt explains them once ("Common arguments"), so their
// per-tool descriptions are left out of what the model sees.
var commonArgs = []string{"name", "container", "kind"}

// implicitArgs are accepted by every tool they apply to (namespace by every
// tool on namespaced objects, wait and timeout_seconds by every tool that
// waits); the system prompt says so once, and they are left out of the
// schemas the model sees. The gate decodes with the full schema, so the
// model may still pass them. This keeps about 250 tokens off every request.
var implicitArgs = []string{"namespace", "wait", "timeout_seconds"}

// compactForModel returns a copy of a tool's schema without what costs
// tokens on every request and tells the model nothing new: the
// descriptions and enums of commonArgs (the tools accept kubectl's kind
// spellings anyway), implicitArgs, and "additionalProperties": false at every
// level (the gate refuses unknown arguments whatever the schema says).
func compactForModel(s *jsonschema.Definition) *jsonschema.Definition {
	if s == nil {
		return nil
	}
	out := compactDefinition(*s, true)
	return &out
}

func compactDefinition(d jsonschema.Definition, top bool) jsonschema.Definition {
	d.AdditionalProperties = nil
	if d.Items != nil {
		items := compactDefinition(*d.Items, false)
		d.Items = &items
	}
	if d.Properties != nil {
		props := make(map[string]jsonschema.Definition, len(d.Properties))
		for name, p := range d.Properties {
			if top && slices.Contains(implicitArgs, name) {
				continue
			}
			if top && slices.Contains(commonArgs, name) {
				p.Description, p.Enum = "", nil
			}
			props[name] = compactDefinition(p, false)
		}
		d.Properties = props
	}
	if d.Defs != nil {
		defs := make(map[string]jsonschema.Definition, len(d.Defs))
		for name, def := range d.Defs {
			defs[name] = compactDefinition(def, false)
		}
		d.Defs = defs
	}
	return d
}

// EstimateTokens estimates the tokens of s for budgeting: about four
// characters per token for English text and JSON.
func EstimateTokens(s string) int { return (len(s) + 3) / 4 }

// PromptSize is the fixed part of every request: the system prompt and the
// tool schemas.
type PromptSize struct {
	SystemChars  int
	ToolsChars   int
	SystemTokens int
	// Tokens is the estimate for both together.
	Tokens int
}

// MeasurePrompt measures the system prompt and tool schemas sent with every
// request (goal: at most 2,000 tokens).
func MeasurePrompt(reg *tools.Registry, data PromptData) (PromptSize, error) {
	sys, err := SystemPrompt(data)
	if err != nil {
		return PromptSize{}, err
	}
	defs, err := json.Marshal(ToolDefinitions(reg))
	if err != nil {
		return PromptSize{}, fmt.Errorf("encode tool definitions: %w", err)
	}
	return PromptSize{
		SystemChars: len(sys), ToolsChars: len(defs), SystemTokens: EstimateTokens(sys),
		Tokens: EstimateTokens(sys) + EstimateTokens(string(defs)),
	}, nil
}

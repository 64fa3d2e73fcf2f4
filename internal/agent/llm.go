package agent

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	openai "github.com/sashabaranov/go-openai"

	"github.com/opsagent/opsagent/internal/tools"
)

// modelError marks a failure of the model endpoint (after retries), as
// opposed to a failure of the run itself: it is what triggers the fallback.
type modelError struct{ err error }

func (e *modelError) Error() string { return "model endpoint failed: " + e.err.Error() }
func (e *modelError) Unwrap() error { return e.err }

// runLLM is the tool-calling loop: at most MaxSteps model calls; the last
// one is made with tool_choice "none" so the model has to answer.
func (a *Agent) runLLM(ctx context.Context, run *Run) error {
	run.Usage = &Usage{}
	if err := a.cfg.Redactor.LoadNamespace(ctx, a.cfg.Prompt.Namespace); err != nil {
		a.log.Debug("redaction limited to patterns", "err", err)
	}
	// The system prompt, the request and the model's own messages are sent
	// as they are: only tool results (cluster-derived text) are redacted,
	// in toolCall, before they join the conversation.
	msgs := []openai.ChatCompletionMessage{
		{Role: openai.ChatMessageRoleSystem, Content: a.system},
		{Role: openai.ChatMessageRoleUser, Content: run.Request},
	}
	seen := map[string]bool{}
	for step := 1; step <= a.cfg.MaxSteps; step++ {
		req := openai.ChatCompletionRequest{
			Model:    a.cfg.ModelName,
			Messages: msgs,
			Tools:    a.defs,
		}
		last := step == a.cfg.MaxSteps
		if last {
			req.ToolChoice = "none"
		}
		resp, err := a.complete(ctx, req)
		if err != nil {
			return err
		}
		run.Usage.LLMCalls++
		run.Usage.PromptTokens += resp.Usage.PromptTokens
		run.Usage.CompletionTokens += resp.Usage.CompletionTokens
		if len(resp.Choices) == 0 {
			return &modelError{errors.New("response has no choices")}
		}
		msg := resp.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			run.Answer = msg.Content
			return nil
		}
		if last {
			return fmt.Errorf("%w: the model still asked for tools after %d steps; raise --max-steps or make the request narrower", ErrStepLimit, a.cfg.MaxSteps)
		}
		calls := make([]openai.ToolCall, len(msg.ToolCalls))
		for i, tc := range msg.ToolCalls {
			if tc.ID == "" { // some local servers leave it out
				tc.ID = fmt.Sprintf("call_%d_%d", step, i)
			}
			tc.Type = openai.ToolTypeFunction
			tc.Index = nil
			calls[i] = tc
		}
		msgs = append(msgs, openai.ChatCompletionMessage{
			Role: openai.ChatMessageRoleAssistant, Content: msg.Content, ToolCalls: calls,
		})
		// Parallel calls are run one by one, in order, each through the Gate.
		for i, tc := range calls {
			content := a.toolCall(ctx, run, tc, i, seen)
			msgs = append(msgs, openai.ChatCompletionMessage{
				Role: openai.ChatMessageRoleTool, ToolCallID: tc.ID, Content: content,
			})
		}
	}
	return fmt.Errorf("%w after %d steps", ErrStepLimit, a.cfg.MaxSteps)
}

// toolCall runs one call the model asked for and returns the tool message
// content: the result or the error, redacted, then capped (a value cut
// first would no longer match). Nothing the model sends can skip the Gate.
func (a *Agent) toolCall(ctx context.Context, run *Run, tc openai.ToolCall, i int, seen map[string]bool) string {
	name, args := tc.Function.Name, json.RawMessage(tc.Function.Arguments)
	if i >= maxCallsPerStep {
		return refusal(fmt.Sprintf("not run: at most %d tool calls are run per step; ask again for the ones you still need", maxCallsPerStep))
	}
	key := name + "\x00" + canonicalJSON(args)
	if seen[key] {
		a.log.Debug("identical tool call refused", "tool", name)
		return refusal("not run: this exact call (same tool, same arguments) was already made; its result is above. Do not repeat it: use that result, change the arguments, or answer")
	}
	seen[key] = true

	rec := a.call(ctx, name, args)
	run.Actions = append(run.Actions, rec)
	return ModelResult(ctx, a.cfg.Redactor, rec, args, a.cfg.MaxToolOutput).Text
}

// NamespacesIn returns the namespaces a tool call's arguments name: its
// "namespace" argument, and "" when "all_namespaces" is true. Their Secrets
// are loaded into the redactor before the call's result is redacted.
func NamespacesIn(args json.RawMessage) []string {
	var a struct {
		Namespace     string `json:"namespace"`
		AllNamespaces bool   `json:"all_namespaces"`
	}
	if err := json.Unmarshal(args, &a); err != nil {
		return nil
	}
	var out []string
	if a.Namespace != "" {
		out = append(out, a.Namespace)
	}
	if a.AllNamespaces {
		out = append(out, "")
	}
	return out
}

// toolMessage is what the model sees of a Record.
type toolMessage struct {
	Risk       tools.Risk `json:"risk"`
	Preview    string     `json:"preview,omitempty"`
	Approved   bool       `json:"approved,omitempty"`
	ApprovedBy string     `json:"approvedBy,omitempty"`
	DryRun     bool       `json:"dryRun,omitempty"`
	Result     any        `json:"result,omitempty"`
	Error      string     `json:"error,omitempty"`
}

func toolContent(rec *tools.Record) []byte {
	m := toolMessage{Risk: rec.Risk, DryRun: rec.DryRun, Result: rec.Result, Error: rec.Error}
	if rec.Risk.Mutates() {
		m.Approved, m.ApprovedBy = rec.Approved, rec.ApprovedBy
	}
	if rec.Preview != nil {
		m.Preview = rec.Preview.Summary
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		m.Result = nil
		m.Error = fmt.Sprintf("%s (result could not be encoded: %v)", m.Error, err)
		b.Reset()
		_ = enc.Encode(m)
	}
	return bytes.TrimSpace(b.Bytes())
}

func refusal(msg string) string {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	return string(b)
}

// canonicalJSON makes equal arguments compare equal whatever their key order
// and spacing; invalid JSON is compared as is.
func canonicalJSON(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(b)
}

// llmOutcome judges a finished LLM run by its mutations. Each action —
// a tool on its targets — counts by its last call (the model may correct a
// bad call on the same object), so a failure on one object is never hidden
// by a success on another. A change left unapproved wins over one that did
// not converge, then a failed one, then bad input. Failed reads and unknown
// tools are the model's to handle in its answer.
func llmOutcome(recs []*tools.Record) error {
	last := map[string]*tools.Record{}
	var order []string
	for _, r := range recs {
		if !r.Risk.Mutates() {
			continue
		}
		key := actionKey(r)
		if _, ok := last[key]; !ok {
			order = append(order, key)
		}
		last[key] = r
	}
	var approval, notConverged, failed, bad error
	for _, key := range order {
		err := last[key].Err()
		switch {
		case err == nil:
		case errors.Is(err, tools.ErrApprovalRequired) || errors.Is(err, tools.ErrDeclined):
			approval = cmp.Or(approval, err)
		case errors.Is(err, tools.ErrNotConverged):
			notConverged = cmp.Or(notConverged, err)
		case tools.IsBadInput(err):
			bad = cmp.Or(bad, err)
		default:
			failed = cmp.Or(failed, err)
		}
	}
	return cmp.Or(approval, notConverged, failed, bad)
}

// actionKey names what a call acted on: the tool and its previewed targets,
// or, when it failed before a preview, the tool and its arguments.
func actionKey(r *tools.Record) string {
	if r.Preview != nil && len(r.Preview.Targets) > 0 {
		key := r.Tool
		for _, t := range r.Preview.Targets {
			key += "|" + t.String()
		}
		return key
	}
	return r.Tool + "|" + string(r.Args)
}

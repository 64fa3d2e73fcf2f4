// Package agent turns one plain request into tool calls and an answer. With
// a model configured it runs a bounded tool-calling loop on an
// OpenAI-compatible endpoint; without one, or when the endpoint keeps
// failing, the deterministic planner chooses the calls. Either way every
// call goes through the one tools.Gate, which alone decides about approval.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/tools"
)

// Mode says which path answered a request.
type Mode string

const (
	// ModeLLM: the model chose the tool calls.
	ModeLLM Mode = "llm"
	// ModeFallback: the deterministic planner chose them.
	ModeFallback Mode = "fallback"
)

// Defaults for Config fields left zero.
const (
	DefaultMaxSteps      = 8
	DefaultMaxToolOutput = 8 << 10
	// maxCallsPerStep bounds the parallel tool calls run from one response.
	maxCallsPerStep = 8
)

// ErrStepLimit means the model did not finish within the step bound.
var ErrStepLimit = errors.New("step limit reached")

// ChatClient is the part of *openai.Client the agent uses.
type ChatClient interface {
	CreateChatCompletion(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error)
}

var _ ChatClient = (*openai.Client)(nil)

// Progress shows that something is going on (a spinner on a terminal).
type Progress interface {
	Start(msg string)
	Stop()
}

// Config is what an Agent is built from.
type Config struct {
	// Gate runs every tool call. Required.
	Gate *tools.Gate
	// Planner is the fallback. Required.
	Planner *planner.Planner
	// Model is the chat endpoint; nil means the planner answers every
	// request, for the reason in NoModelReason.
	Model         ChatClient
	ModelName     string
	NoModelReason string
	// Redactor cleans the tool results sent to the model (never the system
	// prompt, the request or the model's own arguments); nil means
	// patterns and key-name rules only, no Secret values.
	Redactor *redact.Redactor
	Prompt   PromptData
	// MaxSteps bounds the model calls per request.
	MaxSteps int
	// MaxToolOutput caps each tool result the model sees, in bytes.
	MaxToolOutput int
	Retry         Retry
	// ToolTimeout, if set, is passed as timeout_seconds to every tool that
	// takes it (--timeout), overriding what the model chose.
	ToolTimeout time.Duration
	Progress    Progress
	Logger      *slog.Logger
}

// Agent answers requests. It is safe to run requests one after another;
// each Run is independent.
type Agent struct {
	cfg    Config
	system string
	defs   []openai.Tool
	log    *slog.Logger
}

// New checks cfg and builds an Agent.
func New(cfg Config) (*Agent, error) {
	if cfg.Gate == nil || cfg.Gate.Registry == nil {
		return nil, errors.New("agent: a Gate with a Registry is required")
	}
	if cfg.Planner == nil {
		return nil, errors.New("agent: a Planner is required")
	}
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = DefaultMaxSteps
	}
	if cfg.MaxToolOutput <= 0 {
		cfg.MaxToolOutput = DefaultMaxToolOutput
	}
	cfg.Retry = cfg.Retry.withDefaults()
	if cfg.Progress == nil {
		cfg.Progress = noProgress{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Model != nil && cfg.ModelName == "" {
		return nil, errors.New("agent: ModelName is required with a Model")
	}
	system, err := SystemPrompt(cfg.Prompt)
	if err != nil {
		return nil, err
	}
	return &Agent{cfg: cfg, system: system, defs: ToolDefinitions(cfg.Gate.Registry), log: cfg.Logger}, nil
}

// Run is the outcome of one request, shaped for -o json.
type Run struct {
	Request string `json:"request"`
	Mode    Mode   `json:"mode"`
	// FallbackReason says why the planner answered instead of a model.
	FallbackReason string          `json:"fallbackReason,omitempty"`
	Actions        []*tools.Record `json:"actions"`
	Answer         string          `json:"answer"`
	// Error is the reason the run failed, if it did (see Err).
	Error string `json:"error,omitempty"`
	Usage *Usage `json:"usage,omitempty"`

	err error
}

// Usage counts the model calls of an LLM run.
type Usage struct {
	LLMCalls         int `json:"llmCalls"`
	PromptTokens     int `json:"promptTokens"`
	CompletionTokens int `json:"completionTokens"`
}

// Err is why the run failed, or nil. It wraps the tools sentinel errors:
// ErrApprovalRequired or ErrDeclined when a change was not approved,
// a bad-input error (tools.IsBadInput) for a request that could not be
// mapped or named something that does not exist, anything else for a
// failed action.
func (r *Run) Err() error { return r.err }

func (r *Run) fail(err error) {
	r.err = err
	r.Error = err.Error()
}

// Run answers one request. The returned Run is never nil; its Err says
// whether it failed. The error result is only for runs that could not
// start or were cancelled (ctx).
func (a *Agent) Run(ctx context.Context, request string) (*Run, error) {
	run := &Run{Request: request, Actions: []*tools.Record{}}
	if a.cfg.Model == nil {
		run.Mode, run.FallbackReason = ModeFallback, a.cfg.NoModelReason
		a.runPlan(ctx, run)
		return run, ctx.Err()
	}
	run.Mode = ModeLLM
	err := a.runLLM(ctx, run)
	var me *modelError
	switch {
	case err == nil:
		run.err = llmOutcome(run.Actions)
		if run.err != nil {
			run.Error = run.err.Error()
		}
	case ctx.Err() != nil:
		run.fail(ctx.Err())
		return run, ctx.Err()
	case errors.As(err, &me) && !changedCluster(run.Actions):
		a.log.Warn("model endpoint failed; using the planner", "err", err)
		run.Mode, run.FallbackReason = ModeFallback, err.Error()
		run.Actions = []*tools.Record{}
		a.runFallback(ctx, run, err)
	case errors.As(err, &me):
		run.fail(fmt.Errorf("%w; changes were already made, so the planner was not run (it could repeat them): check the actions above", err))
	default:
		run.fail(err)
	}
	return run, ctx.Err()
}

// call runs one tool call through the Gate, with the --timeout default.
func (a *Agent) call(ctx context.Context, name string, args json.RawMessage) *tools.Record {
	args = a.withToolDefaults(name, args)
	a.cfg.Progress.Start(name + " …")
	defer a.cfg.Progress.Stop()
	return a.cfg.Gate.Call(ctx, name, args)
}

// withToolDefaults sets timeout_seconds from ToolTimeout on tools that take it.
func (a *Agent) withToolDefaults(name string, args json.RawMessage) json.RawMessage {
	if a.cfg.ToolTimeout <= 0 {
		return args
	}
	t, err := a.cfg.Gate.Registry.Lookup(name)
	if err != nil || t.Schema() == nil {
		return args
	}
	if _, ok := t.Schema().Properties["timeout_seconds"]; !ok {
		return args
	}
	fields := map[string]json.RawMessage{}
	if len(args) > 0 {
		if err := json.Unmarshal(args, &fields); err != nil || fields == nil {
			return args // the Gate reports the bad arguments
		}
	}
	secs := int((a.cfg.ToolTimeout + time.Second - 1) / time.Second)
	fields["timeout_seconds"] = json.RawMessage(fmt.Sprint(secs))
	out, err := json.Marshal(fields)
	if err != nil {
		return args
	}
	return out
}

// changedCluster reports whether any approved mutation was run (even if it
// then failed: it may have changed something).
func changedCluster(recs []*tools.Record) bool {
	return slices.ContainsFunc(recs, (*tools.Record).Changed)
}

type noProgress struct{}

func (noProgress) Start(string) {}
func (noProgress) Stop()        {}

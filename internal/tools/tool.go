// Package tools declares the typed, risk-classified operations opsagent can
// perform, and the single gate through which every surface (CLI subcommands,
// the no-key planner, the LLM loop) runs them.
//
// A tool is declared once with Define: an args struct (from which the JSON
// schema the model sees is generated and into which arguments are strictly
// decoded), a fixed Risk, and a prepare function that validates, reads the
// live state and returns an Action whose Preview says exactly what Run will do.
package tools

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sashabaranov/go-openai/jsonschema"
)

// Preview describes what an Action will change, computed from live objects
// before anything is changed. Read actions have an empty preview.
type Preview struct {
	// Summary is one line per change, e.g.
	// "deployment/todo-chatbot-backend in todo: replicas 1 → 3".
	Summary string `json:"summary"`
	// Diff is an optional longer description (a manifest diff, a list of
	// objects to create).
	Diff string `json:"diff,omitempty"`
	// NoChange is set when the live state already matches the request; the
	// gate then runs nothing and asks for nothing.
	NoChange bool `json:"noChange,omitempty"`
	// Risk is the risk the tool's code found in this particular change
	// (scaling to 0, an upgrade that deletes objects). The gate uses the
	// higher of it and the tool's declared risk; a preview can raise the
	// risk, never lower it.
	Risk Risk `json:"risk,omitempty"`
	// Privileged lists why the change needs --allow-privileged (an RBAC
	// object, a privileged pod, ...). The gate adds cluster-scoped targets.
	Privileged []string `json:"privileged,omitempty"`
	// Targets are the objects the change creates, updates or deletes. The
	// gate judges the approval scope from them; a mutation without targets
	// is treated as outside any scope.
	Targets []Target `json:"targets,omitempty"`
}

// Action is a validated tool call bound to the live state it was planned
// against. Run performs exactly what Preview describes, and fails with
// ErrConflict if the object changed in between.
type Action interface {
	Preview() Preview
	Run(ctx context.Context) (any, error)
}

// Tool is one operation in the registry.
type Tool interface {
	Name() string
	Description() string
	Risk() Risk
	// Schema is the JSON schema of the arguments, generated from the args type.
	Schema() *jsonschema.Definition
	// Prepare strictly decodes raw arguments, validates them, and reads what
	// it needs to plan. It never changes the cluster.
	Prepare(ctx context.Context, raw json.RawMessage) (Action, error)
}

// Validator is implemented by args types with rules beyond what the JSON
// types say (ranges, one-of, formats). Its error is returned as ErrInvalidArgs.
type Validator interface {
	Validate() error
}

// PrepareFunc plans a call with already decoded and validated args.
type PrepareFunc[A any] func(ctx context.Context, args A) (Action, error)

type typedTool[A any] struct {
	name, description string
	risk              Risk
	schema            *jsonschema.Definition
	prepare           PrepareFunc[A]
}

var _ Tool = (*typedTool[struct{}])(nil)

// Define declares a tool whose arguments are of type A. It panics if A cannot
// be described as a JSON schema: that is a programming error found by any test
// that builds the registry.
func Define[A any](name, description string, risk Risk, prepare PrepareFunc[A]) Tool {
	var zero A
	schema, err := jsonschema.GenerateSchemaForType(zero)
	if err != nil {
		panic(fmt.Sprintf("tool %s: schema for %T: %v", name, zero, err))
	}
	return &typedTool[A]{name: name, description: description, risk: risk, schema: schema, prepare: prepare}
}

func (t *typedTool[A]) Name() string                   { return t.name }
func (t *typedTool[A]) Description() string            { return t.description }
func (t *typedTool[A]) Risk() Risk                     { return t.risk }
func (t *typedTool[A]) Schema() *jsonschema.Definition { return t.schema }

func (t *typedTool[A]) Prepare(ctx context.Context, raw json.RawMessage) (Action, error) {
	var args A
	if err := DecodeArgs(raw, t.schema, &args); err != nil {
		return nil, fmt.Errorf("%s: %w", t.name, err)
	}
	return t.prepare(ctx, args)
}

// ReadResult wraps a read-only computation as an Action with an empty preview.
func ReadResult(run func(ctx context.Context) (any, error)) Action {
	return readAction(run)
}

type readAction func(ctx context.Context) (any, error)

func (readAction) Preview() Preview                       { return Preview{} }
func (r readAction) Run(ctx context.Context) (any, error) { return r(ctx) }

// Mutation is an Action with a preview computed by the tool and a run
// function that applies exactly that change.
type Mutation struct {
	Plan  Preview
	Apply func(ctx context.Context) (any, error)
}

var _ Action = Mutation{}

func (m Mutation) Preview() Preview                     { return m.Plan }
func (m Mutation) Run(ctx context.Context) (any, error) { return m.Apply(ctx) }

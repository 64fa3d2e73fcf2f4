// Package planner maps a plain request onto tool calls without a model: the
// deterministic fallback used when no OpenAI-compatible endpoint is
// configured, or when it keeps failing.
//
// It understands a fixed set of phrasings (see Planner.Help), is
// case-insensitive, ignores filler words and punctuation, and reads numbers
// as digits or words. It never guesses: a request it cannot map, or one that
// leaves out something needed (which workload, how many replicas), is an
// *UnmappedError, which callers treat as bad input.
//
// Decisions worth knowing:
//   - "scale up/down X" without a number is refused with a question; a
//     relative change would need the live replica count and could scale a
//     workload to 0 by accident. "scale down X to 1" works.
//   - A name without a kind ("describe the backend") means a deployment.
//   - "why is X failing?" / "what's wrong?" call diagnose (or explain) only
//     when such a tool is registered; otherwise the error says so.
//   - Only tools present in the registry are ever planned, and every call's
//     arguments are checked against that tool's schema before it is returned.
package planner

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opsagent/opsagent/internal/tools"
)

// Call is one planned tool call.
type Call struct {
	Tool string          `json:"tool"`
	Args json.RawMessage `json:"args"`
}

// Plan is the ordered tool calls for one request.
type Plan struct {
	// Intent names what was understood: "scale", "list", "logs", ...
	Intent string `json:"intent"`
	Calls  []Call `json:"calls"`
}

// UnmappedError is returned for a request the planner cannot map onto tools.
// It matches tools.ErrInvalidArgs with errors.Is, so tools.IsBadInput is true.
type UnmappedError struct {
	Request string
	// Reason says what is missing or not understood.
	Reason string
	// Help lists what the planner can do with the registered tools.
	Help string
}

func (e *UnmappedError) Error() string {
	return fmt.Sprintf("cannot map %q onto a tool: %s\n%s", e.Request, e.Reason, e.Help)
}

// Is makes errors.Is(err, tools.ErrInvalidArgs) true: the request is bad input.
func (e *UnmappedError) Is(target error) bool { return target == tools.ErrInvalidArgs }

// maxRequestBytes bounds the requests the planner reads; real ones are short.
const maxRequestBytes = 4 << 10

// Planner plans requests onto the tools of one registry.
type Planner struct {
	reg *tools.Registry
}

// New returns a planner for the tools in reg.
func New(reg *tools.Registry) *Planner { return &Planner{reg: reg} }

// Plan maps request onto tool calls. It does not touch the cluster.
func (p *Planner) Plan(request string) (Plan, error) {
	if len(request) > maxRequestBytes {
		return Plan{}, p.unmapped(strings.ToValidUTF8(request[:64], "")+"…", fmt.Sprintf("the request is longer than %d bytes", maxRequestBytes))
	}
	if strings.TrimSpace(request) == "" {
		return Plan{}, p.unmapped(request, "the request is empty")
	}
	r := parse(request)
	for _, in := range intents {
		if !in.match(r) {
			continue
		}
		b := &builder{p: p}
		if err := in.build(b, r); err != nil {
			return Plan{}, p.unmapped(request, err.Error())
		}
		if b.err != nil {
			return Plan{}, p.unmapped(request, b.err.Error())
		}
		return Plan{Intent: in.name, Calls: b.calls}, nil
	}
	return Plan{}, p.unmapped(request, "no known action in it")
}

func (p *Planner) unmapped(request, reason string) error {
	return &UnmappedError{Request: request, Reason: reason, Help: p.Help()}
}

// Help lists, for the registered tools, the requests the planner understands.
func (p *Planner) Help() string {
	var b strings.Builder
	b.WriteString("Without a model, opsagent understands requests like:")
	for _, in := range intents {
		if in.example == "" || !p.hasAny(in.tools...) {
			continue
		}
		fmt.Fprintf(&b, "\n  %-58s %s", in.example, in.doc)
	}
	b.WriteString("\nAdd -n NAMESPACE or \"in NAMESPACE\" to choose a namespace. Set OPENAI_API_KEY for free-form requests.")
	return b.String()
}

func (p *Planner) hasAny(names ...string) bool {
	for _, n := range names {
		if _, err := p.reg.Lookup(n); err == nil {
			return true
		}
	}
	return false
}

func (p *Planner) has(name string) bool { return p.hasAny(name) }

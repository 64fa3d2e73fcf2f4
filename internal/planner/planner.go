// Package planner maps a plain request onto tool calls without a model: the
// deterministic fallback used when no OpenAI-compatible endpoint is
// configured, or when it keeps failing.
//
// It understands a fixed set of phrasings (see Planner.Help), is
// case-insensitive (images, variables and quantities keep their case),
// ignores filler words and punctuation, and reads numbers as digits or
// words. It never guesses: a request it cannot map, or one that leaves out
// something needed (which workload, how many replicas, memory or cpu), is an
// *UnmappedError, which callers treat as bad input.
//
// Decisions worth knowing:
//   - A question never becomes a change. A request that asks rather than
//     tells (it starts with why/how/what/is/should/…, contains why or how,
//     a hypothetical such as "what would happen if" or "is it safe to",
//     starts with a read verb such as "explain" or "show", or ends with "?"
//     without a polite "could you") is planned onto read tools only: change
//     intents are not tried, and the builder refuses any tool whose Risk
//     mutates. Plan.Note then says how to ask for the change.
//   - A change is refused when the request negates it ("don't", "never"),
//     makes it conditional ("if", "unless", "when") or asks for a second
//     change: the planner makes one unconditional change per request.
//   - Plan.Ignored lists the content words a plan did not use. The agent's
//     fallback after a model failure only makes an exact change (none
//     ignored); with no model configured, the approval prompt shows the
//     preview instead.
//   - "scale up/down X" without a number is refused with a question. "scale X
//     up by 100%" / "down by 50%" is planned as change_percent: the tool
//     computes the count from the live replicas and shows it in its preview.
//     "up by 2" (a count) is refused: only the total or a percentage is
//     taken. "scale down X to 1" works.
//   - "give X 512Mi memory" (or "set X memory to 512Mi") sets the memory
//     request and limit both, the usual fix for an OOMKilled container.
//     CPU without "request" or "limit" is asked about, since a limit
//     throttles. Quantities need a Kubernetes unit: "512MB" or "5g" is asked
//     about rather than read as something else.
//   - "resize the database volume to 5Gi" passes the spoken name
//     ("database"); resize_pvc resolves it against the claims. Node names
//     are passed as said and matched exactly by the node tools.
//   - A name without a kind ("describe the backend") means a deployment.
//   - "why is X failing?" / "what's wrong?" call diagnose (or explain) when
//     such a tool is registered; otherwise a question describes X, and a
//     command ("diagnose X") is refused saying diagnosis is not available.
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
	// Asks is set when the request asks rather than tells (a question, a
	// hypothetical, "show …"): it says why, and Calls are all reads.
	Asks string `json:"asks,omitempty"`
	// Note is for the person asking: for a question that names a change,
	// how to ask for the change itself.
	Note string `json:"note,omitempty"`
	// Ignored lists the words of the request the plan does not use, as
	// written: neither filler, nor a word of the intent, nor part of an
	// argument. A plan with none is exact: it says no more and no less than
	// the request.
	Ignored []string `json:"ignored,omitempty"`
}

// Exact reports whether the plan used every content word of the request.
func (p Plan) Exact() bool { return len(p.Ignored) == 0 }

// String describes the calls, e.g. `scale_workload {"name":"backend","replicas":3}`.
func (p Plan) String() string {
	parts := make([]string, 0, len(p.Calls))
	for _, c := range p.Calls {
		parts = append(parts, c.Tool+" "+string(c.Args))
	}
	return strings.Join(parts, "; ")
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
	if r.asks != "" {
		return p.planQuestion(request, r)
	}
	for _, in := range intents {
		if !in.match(r) {
			continue
		}
		plan, err := p.build(in, r, false)
		if err != nil {
			return Plan{}, p.unmapped(request, err.Error())
		}
		if err := p.checkChange(plan, r); err != nil {
			return Plan{}, p.unmapped(request, err.Error())
		}
		return plan, nil
	}
	return Plan{}, p.unmapped(request, "no known action in it")
}

// planQuestion plans a request that asks (see request.asks) onto reads
// only: the read intents first, else a look at what the question is about.
// Change intents are never tried, and the builder refuses any tool whose
// Risk mutates, so no wording can turn a question into a change.
func (p *Planner) planQuestion(request string, r *request) (Plan, error) {
	note := ""
	for _, in := range intents {
		if !in.change || !in.match(r) {
			continue
		}
		if in.example != "" && p.hasAny(in.tools...) {
			note = fmt.Sprintf("This reads as a question (%s), so only read-only tools were used and nothing was changed. "+
				"To make the change, say it as a command, e.g. %q.", r.asks, in.example)
		}
		break
	}
	in := questionIntent
	for _, cand := range intents {
		if !cand.change && cand.match(r) {
			in = cand
			break
		}
	}
	plan, err := p.build(in, r, true)
	if err != nil {
		return Plan{}, p.unmapped(request, fmt.Sprintf("%v (only reads are planned, as %s)", err, r.asks))
	}
	plan.Asks, plan.Note = r.asks, note
	return plan, nil
}

func (p *Planner) build(in intent, r *request, readOnly bool) (Plan, error) {
	b := &builder{p: p, readOnly: readOnly}
	if err := in.build(b, r); err != nil {
		return Plan{}, err
	}
	if b.err != nil {
		return Plan{}, b.err
	}
	return Plan{Intent: in.name, Calls: b.calls, Ignored: r.ignored(in, b.calls)}, nil
}

// checkChange refuses a change the request qualifies in ways the planner
// does not model: a negation ("don't restart"), a condition ("restart if it
// fails"), or a second change ("scale … and restart …").
func (p *Planner) checkChange(plan Plan, r *request) error {
	if !p.mutates(plan) {
		return nil
	}
	for _, t := range r.toks {
		switch {
		case negations()[t]:
			return fmt.Errorf("it says %q, and the planner does not make changes with a negation in them; say only what should be done", t)
		case conditions()[t]:
			return fmt.Errorf("it says %q, and the planner cannot check conditions; look first, then say only the change", t)
		}
	}
	for _, w := range plan.Ignored {
		if changeVerbs()[strings.ToLower(w)] {
			return fmt.Errorf("it asks for more than one change (%s and %q); the planner makes one change per request", plan.Intent, w)
		}
	}
	return nil
}

// changeVerbs are the words that select a change intent.
var changeVerbs = wordSet("delete", "remove", "kill", "evict", "uninstall", "install", "upgrade", "reinstall",
	"deploy", "redeploy", "rollback", "undo", "revert", "restart", "bounce", "recycle", "reboot", "scale",
	"resize", "bump", "grow", "shrink", "cordon", "uncordon", "drain", "create", "expose", "autoscale",
	"image", "memory", "cpu", "env", "environment", "variable", "replicas")

// Mutates reports whether any call of plan is to a tool that changes the
// cluster, by the registered tool's Risk.
func (p *Planner) Mutates(plan Plan) bool { return p.mutates(plan) }

func (p *Planner) mutates(plan Plan) bool {
	for _, c := range plan.Calls {
		t, err := p.reg.Lookup(c.Tool)
		if err != nil || t.Risk().Mutates() {
			return true
		}
	}
	return false
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
	b.WriteString("\nQuestions (why …, how do I …, should I …, what would happen if …) only ever read; say a change as a command.")
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

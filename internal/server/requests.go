package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/audit"
	"github.com/opsagent/opsagent/internal/resolve"
	"github.com/opsagent/opsagent/internal/session"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/toolset"
)

// maxTextBytes bounds one request's text, as the CLI does: a request is a
// sentence or a short paragraph, sent to the model on every step.
const maxTextBytes = 16 << 10

var errNoSuchApproval = errors.New("no such approval")

type whoamiView struct {
	User     string   `json:"user"`
	Groups   []string `json:"groups,omitempty"`
	Local    bool     `json:"local"`
	ReadOnly bool     `json:"readOnly"`
	// Mode is "llm" when a model is configured, else "planner".
	Mode                   string `json:"mode"`
	ApprovalTimeoutSeconds int    `json:"approvalTimeoutSeconds"`
}

func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, c *caller) {
	mode := "planner"
	if !s.cfg.PlannerOnly && s.cfg.LLM.LLMEnabled() {
		mode = "llm"
	}
	writeJSON(w, http.StatusOK, whoamiView{
		User: c.User, Groups: c.Groups, Local: c.Local, ReadOnly: s.cfg.ReadOnly, Mode: mode,
		ApprovalTimeoutSeconds: int(s.cfg.ApprovalTimeout / time.Second),
	})
}

func (in submitInput) validate() error {
	text := strings.TrimSpace(in.Text)
	switch {
	case text == "":
		return errors.New("text is empty; say what to do, e.g. \"scale backend to 3\"")
	case len(in.Text) > maxTextBytes:
		return fmt.Errorf("text is %d bytes, more than %d; say it in fewer words", len(in.Text), maxTextBytes)
	}
	return resolve.CheckNamespace(in.Namespace)
}

// submit starts a request and answers 202 with its id; its progress is
// read from GET .../{id} or streamed from .../{id}/events.
func (s *Server) submit(w http.ResponseWriter, r *http.Request, c *caller) {
	var in submitInput
	if err := decodeBody(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := in.validate(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	req, err := s.start(c, in)
	if err != nil {
		writeError(w, statusOfStart(err), err.Error())
		return
	}
	w.Header().Set("Location", "/api/v1/requests/"+req.id)
	writeJSON(w, http.StatusAccepted, req.view())
}

// errBusy and errDraining are the start errors that are not the cluster's.
var (
	errBusy     = errors.New("too many requests")
	errDraining = errors.New("draining")
)

func statusOfStart(err error) int {
	switch {
	case errors.Is(err, errBusy):
		return http.StatusTooManyRequests
	case errors.Is(err, errDraining):
		return http.StatusServiceUnavailable
	}
	return statusOf(err)
}

// start builds the caller's clients, gate and agent through internal/session
// (as the CLI does) and runs the request in the background.
func (s *Server) start(c *caller, in submitInput) (*request, error) {
	clients, err := c.Clients(in.Namespace)
	if err != nil {
		return nil, fmt.Errorf("build clients for %s: %w", c.User, err)
	}
	ts := toolset.New(clients, toolset.Options{})
	if s.cfg.ReadOnly {
		ts = toolset.ReadOnly(ts)
	}
	req := newRequest(c.User, session.Namespace(clients), in)
	out := newOutputRedactor(s.runCtx, clients, req.namespace, s.cfg.LLM.APIKey, s.log.With("request", req.id, "caller", c.User))
	gate := session.NewGate(tools.NewRegistry(ts...), clients, session.GateSettings{
		// No Yes: on the server every change is approved by a person.
		AllowDestructive: in.AllowDestructive, AllowPrivileged: in.AllowPrivileged, DryRun: in.DryRun,
		Ask: s.asker(req, out), AskedBy: "http approval by " + c.User,
		AuditLog: s.cfg.LLM.AuditLog, Via: "http", Caller: c.User,
	})
	gate.Observe = func(rec *tools.Record) {
		s.metrics.observeAction(rec)
		req.settle(rec.Tool, rec.Args)
		req.publish(eventAction, out.record(rec))
	}
	ag, err := session.NewAgent(clients, gate, session.AgentSettings{
		Config: s.cfg.LLM, PlannerOnly: s.cfg.PlannerOnly, ToolTimeout: s.cfg.ToolTimeout,
		Progress: stepProgress{req}, Logger: s.log.With("request", req.id, "caller", c.User),
	})
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return nil, fmt.Errorf("%w: %w; submit it again when the server is back", errDraining, errShuttingDown)
	}
	if err := s.store.add(req, s.cfg.MaxActive); err != nil {
		return nil, fmt.Errorf("%w: %w", errBusy, err)
	}
	ctx, cancel := context.WithCancelCause(s.runCtx)
	ctx, inFlight := audit.WithInFlight(ctx)
	req.cancel = cancel
	req.publish(eventStarted, map[string]string{"id": req.id, "namespace": req.namespace, "caller": c.User})
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		defer cancel(nil)
		s.run(ctx, req, ag, out, inFlight)
	}()
	return req, nil
}

// run answers the request and records how it ended. A change that may be
// half made (cancelled mid-run) is named in the request's error and logged;
// the audit log has its started and done records either way.
func (s *Server) run(ctx context.Context, req *request, ag *agent.Agent, out *outputRedactor, inFlight *audit.InFlight) {
	s.metrics.running.Inc()
	defer s.metrics.running.Dec()
	start := time.Now()
	run, err := ag.Run(ctx, req.in.Text)
	state := stateSucceeded
	switch {
	case err != nil:
		state = stateCancelled
	case run.Err() != nil:
		state = stateFailed
	}
	errMsg := run.Error
	if err != nil && errMsg == "" {
		errMsg = "cancelled: " + context.Cause(ctx).Error()
	}
	for _, e := range inFlight.Unsettled() {
		what := audit.Describe(e)
		s.log.Warn("an action may be half-done", "request", req.id, "caller", req.owner, "action", what)
		errMsg = strings.TrimPrefix(errMsg+"; "+what+" may be half-done", "; ")
	}
	s.metrics.observeRun(run, state, time.Since(start))
	req.finish(state, out.run(run), out.text(run.Answer), out.text(errMsg))
}

// stepProgress turns the agent's progress (a tool call or a model call
// begins) into step events.
type stepProgress struct{ req *request }

func (p stepProgress) Start(msg string) { p.req.publish(eventStep, map[string]string{"message": msg}) }
func (p stepProgress) Stop()            {}

// asker is the gate's Ask for one request: it publishes the approval and
// blocks until the caller decides, it expires, the request is cancelled or
// the server shuts down. Only a decision approves; everything else refuses.
func (s *Server) asker(req *request, out *outputRedactor) func(context.Context, tools.ApprovalRequest) (bool, error) {
	return func(ctx context.Context, ar tools.ApprovalRequest) (bool, error) {
		now := time.Now().UTC()
		a := &approval{
			ID: newID(), Tool: ar.Tool, Args: session.MaskArgs(ar.Args), Risk: ar.Risk, Preview: out.preview(ar.Preview),
			Privileged: ar.Privileged, Namespace: ar.Scope.Namespace, OutOfScope: ar.OutOfScope,
			State: approvalPending, Created: now, ExpiresAt: now.Add(s.cfg.ApprovalTimeout),
			decided: make(chan struct{}),
		}
		for range req.ask(a) {
			s.metrics.approvals.WithLabelValues(approvalStale).Inc()
		}
		s.metrics.pending.Inc()
		defer s.metrics.pending.Dec()
		timer := time.NewTimer(s.cfg.ApprovalTimeout)
		defer timer.Stop()
		var state, reason string
		var refusal error
		select {
		case <-a.decided:
			ok := req.approved(a)
			s.metrics.approvals.WithLabelValues(map[bool]string{true: approvalApproved, false: approvalDenied}[ok]).Inc()
			return ok, nil
		case <-timer.C:
			state, reason = approvalExpired, fmt.Sprintf("nobody decided within %s", s.cfg.ApprovalTimeout)
			refusal = fmt.Errorf("%w: nobody approved %s within %s; nothing was changed; submit the request again", tools.ErrApprovalRequired, ar.Tool, s.cfg.ApprovalTimeout)
		case <-ctx.Done():
			state, reason = approvalCancelled, "the request was cancelled: "+context.Cause(ctx).Error()
			refusal = context.Cause(ctx)
		case <-s.closing:
			state, reason = approvalCancelled, errShuttingDown.Error()
			refusal = fmt.Errorf("%w: %w; nothing was changed", tools.ErrApprovalRequired, errShuttingDown)
		}
		if decided, ok := req.end(a, state, reason); decided {
			// The decision won the race against the timer or the cancel.
			s.metrics.approvals.WithLabelValues(map[bool]string{true: approvalApproved, false: approvalDenied}[ok]).Inc()
			return ok, nil
		}
		s.metrics.approvals.WithLabelValues(state).Inc()
		return false, refusal
	}
}

func (s *Server) list(w http.ResponseWriter, _ *http.Request, c *caller) {
	views := []requestView{}
	for _, r := range s.store.list(c.User) {
		v := r.view()
		v.Run = nil // the list stays small; GET .../{id} has the run
		views = append(views, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": views})
}

// lookup finds the caller's request named in the path, answering 404
// otherwise (also for another caller's request: its existence is not
// disclosed).
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, c *caller) (*request, bool) {
	req, ok := s.store.get(c.User, r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no request %q of yours: it never existed, was dropped after %s, or belongs to another caller", r.PathValue("id"), s.cfg.Retention))
	}
	return req, ok
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, c *caller) {
	if req, ok := s.lookup(w, r, c); ok {
		writeJSON(w, http.StatusOK, req.view())
	}
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request, c *caller) {
	req, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	if req.active() {
		req.cancel(fmt.Errorf("cancelled by %s", c.User))
	}
	writeJSON(w, http.StatusAccepted, req.view())
}

// decisionInput is the body of POST .../approvals/{approval}.
type decisionInput struct {
	// Decision is "approve" or "deny".
	Decision string `json:"decision"`
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, c *caller) {
	req, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	var in decisionInput
	if err := decodeBody(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if in.Decision != "approve" && in.Decision != "deny" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("decision %q: want \"approve\" or \"deny\"", in.Decision))
		return
	}
	a, err := req.decide(r.PathValue("approval"), in.Decision == "approve", c.User)
	var np errNotPending
	switch {
	case errors.Is(err, errNoSuchApproval):
		writeError(w, http.StatusNotFound, fmt.Sprintf("request %s has no approval %q", req.id, r.PathValue("approval")))
	case errors.As(err, &np):
		writeError(w, http.StatusConflict, err.Error())
	default:
		writeJSON(w, http.StatusOK, a)
	}
}

// events streams the request's events as Server-Sent Events, from the
// first (or after Last-Event-ID) until the request ends.
func (s *Server) events(w http.ResponseWriter, r *http.Request, c *caller) {
	req, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	next := 0
	if _, err := fmt.Sscan(r.Header.Get("Last-Event-ID"), &next); err != nil {
		next = 0
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	keepAlive := time.NewTicker(sseKeepAlive)
	defer keepAlive.Stop()
	for {
		evs, changed, ended := req.since(next)
		for _, e := range evs {
			data, err := json.Marshal(e)
			if err != nil {
				data, _ = json.Marshal(map[string]string{"error": err.Error()})
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, data); err != nil {
				return
			}
			next = e.Seq
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if ended {
			return
		}
		select {
		case <-changed:
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
}

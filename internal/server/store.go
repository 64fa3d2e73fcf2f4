package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/opsagent/opsagent/internal/tools"
)

// Request states. A request is running until it ends; while one of its
// actions waits for a decision it is waiting.
const (
	stateRunning   = "running"
	stateWaiting   = "waiting"
	stateSucceeded = "succeeded"
	stateFailed    = "failed"
	stateCancelled = "cancelled"
)

// Approval states. stale: approved, but the object changed between the
// preview and the write, so nothing was written and the action was planned
// and asked about again.
const (
	approvalPending   = "pending"
	approvalApproved  = "approved"
	approvalDenied    = "denied"
	approvalExpired   = "expired"
	approvalCancelled = "cancelled"
	approvalStale     = "stale"
)

// Event types on a request's stream, in the order they can happen.
const (
	eventStarted  = "started"  // the request was accepted
	eventStep     = "step"     // a tool call or a model call begins
	eventApproval = "approval" // an action waits for a decision
	eventDecision = "decision" // an approval was decided, expired or went stale
	eventAction   = "action"   // a tool call ended: its record (preview, diff, result or error)
	eventAnswer   = "answer"   // the agent's answer
	eventError    = "error"    // why the request failed
	eventDone     = "done"     // the request ended; the stream closes
)

// event is one entry on a request's stream. Seq numbers start at 1 and
// serve as SSE ids, so a client reconnects with Last-Event-ID.
type event struct {
	Seq  int       `json:"seq"`
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	Data any       `json:"data,omitempty"`
}

// submitInput is the body of POST /api/v1/requests.
type submitInput struct {
	Text      string `json:"text"`
	Namespace string `json:"namespace,omitempty"`
	DryRun    bool   `json:"dryRun,omitempty"`
	// The CLI's --allow-destructive and --allow-privileged: they permit
	// asking about such a change; each still needs its approval.
	AllowDestructive bool `json:"allowDestructive,omitempty"`
	AllowPrivileged  bool `json:"allowPrivileged,omitempty"`
}

// approval is one action waiting for (or past) a decision: everything the
// gate's ApprovalRequest holds, with the arguments masked.
type approval struct {
	ID         string          `json:"id"`
	Tool       string          `json:"tool"`
	Args       json.RawMessage `json:"args"`
	Risk       tools.Risk      `json:"risk"`
	Preview    tools.Preview   `json:"preview"`
	Privileged []string        `json:"privileged,omitempty"`
	// Namespace is the request's scope; OutOfScope the targets outside it.
	Namespace  string         `json:"namespace"`
	OutOfScope []tools.Target `json:"outOfScope,omitempty"`
	State      string         `json:"state"`
	Reason     string         `json:"reason,omitempty"`
	DecidedBy  string         `json:"decidedBy,omitempty"`
	Created    time.Time      `json:"created"`
	ExpiresAt  time.Time      `json:"expiresAt"`

	// settled: the action's record arrived, so a later ask for the same
	// call is a new call, not a re-plan of this one.
	settled bool
	// decided is closed when State leaves pending by a decision.
	decided chan struct{}
}

// request is one submitted request and everything that happened to it.
type request struct {
	id, owner string
	in        submitInput
	namespace string
	created   time.Time

	mu        sync.Mutex
	state     string
	finished  time.Time
	events    []event
	changed   chan struct{} // closed and replaced on every event
	approvals []*approval
	run       json.RawMessage
	errMsg    string
	cancel    context.CancelCauseFunc
}

// requestView is the JSON form of a request.
type requestView struct {
	ID               string     `json:"id"`
	Text             string     `json:"text"`
	Namespace        string     `json:"namespace"`
	DryRun           bool       `json:"dryRun"`
	AllowDestructive bool       `json:"allowDestructive"`
	AllowPrivileged  bool       `json:"allowPrivileged"`
	State            string     `json:"state"`
	Created          time.Time  `json:"created"`
	Finished         *time.Time `json:"finished,omitempty"`
	// Approvals are every approval asked, pending ones included.
	Approvals []approval `json:"approvals"`
	// Run is what `opsagent REQUEST -o json` prints, once the request ended.
	Run   json.RawMessage `json:"run,omitempty"`
	Error string          `json:"error,omitempty"`
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func newRequest(owner, namespace string, in submitInput) *request {
	return &request{
		id: newID(), owner: owner, in: in, namespace: namespace, created: time.Now().UTC(),
		state: stateRunning, changed: make(chan struct{}),
	}
}

// publish appends an event and wakes the streams. Callers hold r.mu.
func (r *request) publishLocked(typ string, data any) {
	r.events = append(r.events, event{Seq: len(r.events) + 1, Type: typ, Time: time.Now().UTC(), Data: data})
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *request) publish(typ string, data any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.publishLocked(typ, data)
}

// since returns the events after seq, a channel closed on the next event,
// and whether the request has ended.
func (r *request) since(seq int) ([]event, <-chan struct{}, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq = max(0, min(seq, len(r.events)))
	return slices.Clone(r.events[seq:]), r.changed, r.finishedLocked()
}

func (r *request) finishedLocked() bool { return !r.finished.IsZero() }

func (r *request) active() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.finishedLocked()
}

func (r *request) view() requestView {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := requestView{
		ID: r.id, Text: r.in.Text, Namespace: r.namespace, DryRun: r.in.DryRun,
		AllowDestructive: r.in.AllowDestructive, AllowPrivileged: r.in.AllowPrivileged,
		State: r.state, Created: r.created, Run: r.run, Error: r.errMsg, Approvals: []approval{},
	}
	if r.finishedLocked() {
		f := r.finished
		v.Finished = &f
	}
	for _, a := range r.approvals {
		v.Approvals = append(v.Approvals, *a)
	}
	return v
}

// ask registers a pending approval. An earlier approval of the same call
// that was approved but never settled went stale: the gate plans a call
// again, with the same arguments, only when the object changed after the
// approved preview.
func (r *request) ask(a *approval) (stale []*approval) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.approvals {
		if p.State == approvalApproved && !p.settled && p.Tool == a.Tool && string(p.Args) == string(a.Args) {
			p.State, p.settled = approvalStale, true
			p.Reason = fmt.Sprintf("the object changed after this preview, so the approved change was not made; the current state is previewed in approval %s", a.ID)
			r.publishLocked(eventDecision, *p)
			stale = append(stale, p)
		}
	}
	r.approvals = append(r.approvals, a)
	r.state = stateWaiting
	r.publishLocked(eventApproval, *a)
	return stale
}

// settle notes that the call behind the latest approval of tool and args
// has ended.
func (r *request) settle(tool string, args json.RawMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range slices.Backward(r.approvals) {
		if p.Tool == tool && string(p.Args) == string(args) && !p.settled {
			p.settled = true
			return
		}
	}
}

func (r *request) approval(id string) *approval {
	for _, a := range r.approvals {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// errNotPending says why an approval cannot be decided any more.
type errNotPending struct{ a approval }

func (e errNotPending) Error() string {
	msg := fmt.Sprintf("approval %s is %s, not pending", e.a.ID, e.a.State)
	if e.a.Reason != "" {
		msg += ": " + e.a.Reason
	}
	return msg
}

// decide records a person's decision on a pending approval.
func (r *request) decide(id string, approve bool, by string) (approval, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.approval(id)
	if a == nil {
		return approval{}, errNoSuchApproval
	}
	if a.State != approvalPending {
		return approval{}, errNotPending{*a}
	}
	a.State, a.DecidedBy = approvalDenied, by
	if approve {
		a.State = approvalApproved
	}
	close(a.decided)
	r.leaveWaitingLocked()
	r.publishLocked(eventDecision, *a)
	return *a, nil
}

func (r *request) approved(a *approval) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return a.State == approvalApproved
}

// end moves a still-pending approval to state (expired, cancelled);
// if a decision came first it reports that decision instead.
func (r *request) end(a *approval, state, reason string) (decided, approved bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a.State != approvalPending {
		return true, a.State == approvalApproved
	}
	a.State, a.Reason = state, reason
	r.leaveWaitingLocked()
	r.publishLocked(eventDecision, *a)
	return false, false
}

func (r *request) leaveWaitingLocked() {
	if r.state != stateWaiting {
		return
	}
	for _, a := range r.approvals {
		if a.State == approvalPending {
			return
		}
	}
	r.state = stateRunning
}

// finish records the outcome and closes the stream with done.
func (r *request) finish(state string, run json.RawMessage, answer, errMsg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state, r.run, r.errMsg, r.finished = state, run, errMsg, time.Now().UTC()
	if answer != "" {
		r.publishLocked(eventAnswer, map[string]string{"answer": answer})
	}
	if errMsg != "" {
		r.publishLocked(eventError, map[string]string{"error": errMsg})
	}
	r.publishLocked(eventDone, map[string]string{"state": state})
}

// store keeps every caller's requests; a caller only ever finds its own.
type store struct {
	maxKept   int
	retention time.Duration

	mu   sync.Mutex
	byID map[string]*request
}

func newStore(maxKept int, retention time.Duration) *store {
	return &store{maxKept: maxKept, retention: retention, byID: map[string]*request{}}
}

// add keeps r, first dropping what is past retention and, if the owner
// keeps too many, its oldest finished requests.
func (s *store) add(r *request, maxActive int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	var mine []*request
	active := 0
	for id, q := range s.byID {
		q.mu.Lock()
		done, finished := q.finishedLocked(), q.finished
		q.mu.Unlock()
		if done && now.Sub(finished) > s.retention {
			delete(s.byID, id)
			continue
		}
		if q.owner == r.owner {
			mine = append(mine, q)
			if !done {
				active++
			}
		}
	}
	if active >= maxActive {
		return fmt.Errorf("%s already has %d requests running (at most %d); wait for one to end or cancel one", r.owner, active, maxActive)
	}
	slices.SortFunc(mine, func(a, b *request) int { return a.created.Compare(b.created) })
	excess := len(mine) - s.maxKept + 1
	for _, q := range mine {
		if excess <= 0 {
			break
		}
		if !q.active() {
			delete(s.byID, q.id)
			excess--
		}
	}
	s.byID[r.id] = r
	return nil
}

// get returns the owner's request id; another caller's is not found, the
// same answer as for an id that never existed.
func (s *store) get(owner, id string) (*request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok || r.owner != owner {
		return nil, false
	}
	return r, true
}

// list returns the owner's requests, newest first.
func (s *store) list(owner string) []*request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*request
	for _, r := range s.byID {
		if r.owner == owner {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *request) int { return b.created.Compare(a.created) })
	return out
}

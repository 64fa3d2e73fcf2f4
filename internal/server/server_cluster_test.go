package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/server"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// Identity: no token and a token the API server rejects are 401; a good
// token is known by its Kubernetes user name.
func TestServeAuthenticatesWithTheCallersToken(t *testing.T) {
	t.Parallel()
	e := testcluster.New(t)
	s := newTestServer(t, e, nil)
	reader := e.CallerToken(t, "reader", readRules...)

	for _, tc := range []struct{ name, token string }{
		{"no token", ""},
		{"bad token", "not-a-kubernetes-token"},
	} {
		code, body := do(t, http.MethodGet, s.URL+"/api/v1/requests", tc.token, nil, nil)
		if code != http.StatusUnauthorized || !strings.Contains(body, "token") {
			t.Errorf("%s: got %d %s, want 401 naming the token", tc.name, code, body)
		}
	}
	code, body := do(t, http.MethodPost, s.URL+"/api/v1/requests", "", map[string]any{"text": "scale web to 2"}, nil)
	if code != http.StatusUnauthorized {
		t.Errorf("submit without a token: %d %s, want 401", code, body)
	}
	var who struct{ User string }
	if code, body := do(t, http.MethodGet, s.URL+"/api/v1/whoami", reader, nil, &who); code != http.StatusOK {
		t.Fatalf("whoami: %d %s", code, body)
	}
	if want := "system:serviceaccount:" + e.Namespace + ":reader"; who.User != want {
		t.Errorf("whoami user = %q, want %q", who.User, want)
	}
}

// The writer's scale pauses for approval, is approved over the API and
// changes the replicas; the reader cannot see, approve or cancel it, and
// the reader's own scale is refused by RBAC without changing anything.
func TestServeScaleIsApprovedByTheCallerAndJudgedByItsRBAC(t *testing.T) {
	t.Parallel()
	e, s, writer := newScaleSetup(t, nil)
	reader := e.CallerToken(t, "reader", readRules...)

	// The reader: RBAC refuses, nothing is asked, nothing changes.
	rid := s.submit(t, reader, map[string]any{"text": "scale web to 2", "namespace": e.Namespace})
	rv := s.waitEnded(t, reader, rid)
	if rv.State != "failed" || !strings.Contains(rv.Error, "forbidden") || len(rv.Approvals) != 0 {
		t.Errorf("reader's scale: state %s, error %q, approvals %d; want failed with the API's forbidden message and no approval", rv.State, rv.Error, len(rv.Approvals))
	}
	if n := e.Replicas(t, "web"); n != 1 {
		t.Fatalf("the reader's refused scale changed replicas to %d", n)
	}

	// The writer: the request waits for approval. The stream replays the
	// request's events from its first.
	id, a := s.pendingScale(t, e, writer)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	streamed := make(chan []sseEvent, 1)
	go func() { streamed <- readEvents(t, ctx, s.URL+"/api/v1/requests/"+id+"/events", writer) }()

	if a.Tool != "scale_workload" || a.Risk != "write" || !strings.Contains(a.Preview.Summary, "replicas 1 → 2") {
		t.Errorf("pending approval = %+v; want scale_workload, risk write, preview replicas 1 → 2", a)
	}
	if n := e.Replicas(t, "web"); n != 1 {
		t.Fatalf("replicas changed to %d before approval", n)
	}

	// Another caller learns nothing about it and cannot decide it.
	for _, path := range []string{"", "/events"} {
		if code, body := do(t, http.MethodGet, s.URL+"/api/v1/requests/"+id+path, reader, nil, nil); code != http.StatusNotFound {
			t.Errorf("reader GET writer's request%s: %d %s, want 404", path, code, body)
		}
	}
	if code, body := s.decide(t, reader, id, a.ID, "approve"); code != http.StatusNotFound {
		t.Errorf("reader approving writer's change: %d %s, want 404", code, body)
	}
	if code, body := do(t, http.MethodPost, s.URL+"/api/v1/requests/"+id+"/cancel", reader, map[string]any{}, nil); code != http.StatusNotFound {
		t.Errorf("reader cancelling writer's request: %d %s, want 404", code, body)
	}
	var list struct{ Requests []requestView }
	do(t, http.MethodGet, s.URL+"/api/v1/requests", reader, nil, &list)
	if len(list.Requests) != 1 || list.Requests[0].ID != rid {
		t.Errorf("reader's list = %+v, want only its own request %s", list.Requests, rid)
	}

	if code, body := s.decide(t, writer, id, a.ID, "approve"); code != http.StatusOK {
		t.Fatalf("approve: %d %s", code, body)
	}
	v := s.waitEnded(t, writer, id)
	if v.State != "succeeded" || v.Run == nil || len(v.Run.Actions) != 1 || !v.Run.Actions[0].Approved {
		t.Fatalf("approved scale: state %s, error %q, run %+v", v.State, v.Error, v.Run)
	}
	wantBy := "http approval by system:serviceaccount:" + e.Namespace + ":writer"
	if got := v.Run.Actions[0].ApprovedBy; got != wantBy {
		t.Errorf("approvedBy = %q, want %q", got, wantBy)
	}
	if n := e.Replicas(t, "web"); n != 2 {
		t.Errorf("replicas = %d after the approved scale, want 2", n)
	}
	if code, body := s.decide(t, writer, id, a.ID, "approve"); code != http.StatusConflict {
		t.Errorf("approving a decided approval again: %d %s, want 409", code, body)
	}

	// The stream told the whole story, in order.
	var types []string
	for _, ev := range <-streamed {
		types = append(types, ev.Type)
	}
	for _, want := range []string{"started", "step", "approval", "decision", "action", "answer", "done"} {
		if !slices.Contains(types, want) {
			t.Errorf("event stream %v lacks %q", types, want)
		}
	}
	if types[len(types)-1] != "done" {
		t.Errorf("event stream %v does not end with done", types)
	}

	// The audit log names the caller for the action.
	if entry := lastAudit(t, s.AuditLog); entry.Via != "http" || entry.Caller != "system:serviceaccount:"+e.Namespace+":writer" || entry.Phase != "done" || entry.ApprovedBy != wantBy {
		t.Errorf("audit entry = %+v; want via http, the writer as caller and approver", entry)
	}
}

// An approval is bound to what was previewed: when the object changes
// between the preview and the approval, the approved write is refused by
// the API (resourceVersion), nothing is written, the stale approval cannot
// be used again, and the change is previewed and asked about anew.
func TestServeStaleApprovalIsRefused(t *testing.T) {
	t.Parallel()
	e, s, writer := newScaleSetup(t, nil)

	id, first := s.pendingScale(t, e, writer)

	// Someone else scales web to 3 after the preview.
	sc, err := e.Client.AppsV1().Deployments(e.Namespace).GetScale(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Spec.Replicas = 3
	if _, err := e.Client.AppsV1().Deployments(e.Namespace).UpdateScale(t.Context(), "web", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.WaitDeployment(t, "web", 3)

	if code, body := s.decide(t, writer, id, first.ID, "approve"); code != http.StatusOK {
		t.Fatalf("approve the first preview: %d %s", code, body)
	}
	v := s.waitFor(t, writer, id, "a second preview", func(v requestView) bool {
		p := v.pending()
		return len(p) == 1 && p[0].ID != first.ID
	})
	second := v.pending()[0]
	if !strings.Contains(second.Preview.Summary, "replicas 3 → 2") {
		t.Errorf("second preview = %q, want the current state: replicas 3 → 2", second.Preview.Summary)
	}
	if i := slices.IndexFunc(v.Approvals, func(a approvalView) bool { return a.ID == first.ID }); i < 0 || v.Approvals[i].State != "stale" {
		t.Errorf("first approval after the object changed: %+v, want stale", v.Approvals)
	}
	if n := e.Replicas(t, "web"); n != 3 {
		t.Fatalf("the stale approval wrote replicas %d", n)
	}
	if code, body := s.decide(t, writer, id, first.ID, "approve"); code != http.StatusConflict || !strings.Contains(body, "stale") {
		t.Errorf("re-using the stale approval: %d %s, want 409 naming it stale", code, body)
	}

	if code, body := s.decide(t, writer, id, second.ID, "approve"); code != http.StatusOK {
		t.Fatalf("approve the second preview: %d %s", code, body)
	}
	if v := s.waitEnded(t, writer, id); v.State != "succeeded" {
		t.Fatalf("after approving the current preview: state %s, error %q", v.State, v.Error)
	}
	if n := e.Replicas(t, "web"); n != 2 {
		t.Errorf("replicas = %d, want 2", n)
	}
}

// A denied change and an expired approval change nothing; a destructive
// change needs allowDestructive before anyone is asked.
func TestServeDenyExpireAndOptIns(t *testing.T) {
	t.Parallel()
	e, s, writer := newScaleSetup(t, func(c *server.Config) { c.ApprovalTimeout = 2 * time.Second })

	id, a := s.pendingScale(t, e, writer)
	if code, body := s.decide(t, writer, id, a.ID, "deny"); code != http.StatusOK {
		t.Fatalf("deny: %d %s", code, body)
	}
	if v := s.waitEnded(t, writer, id); v.State != "failed" || !strings.Contains(v.Error, "declined") {
		t.Errorf("denied scale: state %s, error %q; want failed, declined", v.State, v.Error)
	}

	id = s.submit(t, writer, map[string]any{"text": "scale web to 2", "namespace": e.Namespace})
	v := s.waitEnded(t, writer, id)
	if v.State != "failed" || len(v.Approvals) != 1 || v.Approvals[0].State != "expired" {
		t.Errorf("unanswered scale: state %s, error %q, approvals %+v; want failed with an expired approval", v.State, v.Error, v.Approvals)
	}

	// Scaling to 0 is destructive: without allowDestructive nobody is asked.
	id = s.submit(t, writer, map[string]any{"text": "scale web to 0", "namespace": e.Namespace})
	v = s.waitEnded(t, writer, id)
	if v.State != "failed" || len(v.Approvals) != 0 || !strings.Contains(v.Error, "destructive") {
		t.Errorf("scale to 0 without allowDestructive: state %s, error %q, approvals %d", v.State, v.Error, len(v.Approvals))
	}
	if n := e.Replicas(t, "web"); n != 1 {
		t.Errorf("replicas = %d after a denial, an expiry and a refusal; want 1", n)
	}

	// Dry run previews and changes nothing, without asking.
	id = s.submit(t, writer, map[string]any{"text": "scale web to 2", "namespace": e.Namespace, "dryRun": true})
	if v := s.waitEnded(t, writer, id); v.State != "succeeded" || len(v.Approvals) != 0 || e.Replicas(t, "web") != 1 {
		t.Errorf("dry run: state %s, approvals %d, replicas %d", v.State, len(v.Approvals), e.Replicas(t, "web"))
	}
}

// diagnose and explain answer with the CLI's JSON documents, read with the
// caller's token.
func TestServeDiagnoseAndExplain(t *testing.T) {
	t.Parallel()
	e := testcluster.New(t)
	s := newTestServer(t, e, nil)
	reader := e.CallerToken(t, "reader", readRules...)
	e.Deployment(t, "web", 1)

	var rep struct {
		APIVersion, Kind string
		Summary          struct{ Healthy bool }
		Metadata         struct{ Scope struct{ Namespace string } }
	}
	if code, body := do(t, http.MethodGet, s.URL+"/api/v1/diagnose?namespace="+e.Namespace, reader, nil, &rep); code != http.StatusOK {
		t.Fatalf("diagnose: %d %s", code, body)
	}
	if rep.Kind != "DiagnoseReport" || rep.APIVersion != "opsagent.dev/v1" || rep.Metadata.Scope.Namespace != e.Namespace {
		t.Errorf("diagnose answered %+v, want a DiagnoseReport of %s", rep, e.Namespace)
	}
	var ex struct{ Kind string }
	if code, body := do(t, http.MethodGet, s.URL+"/api/v1/explain?namespace="+e.Namespace+"&name=web", reader, nil, &ex); code != http.StatusOK || ex.Kind != "ExplainReport" {
		t.Errorf("explain web: %d %s", code, body)
	}
	if code, body := do(t, http.MethodGet, s.URL+"/api/v1/diagnose?namespace=Not_Valid", reader, nil, nil); code != http.StatusBadRequest {
		t.Errorf("diagnose with a bad namespace: %d %s, want 400", code, body)
	}
	if code, body := do(t, http.MethodGet, s.URL+"/api/v1/explain?namespace="+e.Namespace+"&name=nothing-here", reader, nil, nil); code != http.StatusBadRequest && code != http.StatusNotFound {
		t.Errorf("explain an unknown name: %d %s, want 400 or 404", code, body)
	}
}

// Shutdown refuses pending approvals (nobody approves by default), turns
// /readyz and new submissions away, and leaves the request's outcome
// readable; nothing is changed.
func TestServeShutdownRefusesPendingApprovals(t *testing.T) {
	t.Parallel()
	e, s, writer := newScaleSetup(t, nil)

	id, a := s.pendingScale(t, e, writer)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
	v := s.waitEnded(t, writer, id)
	if v.State != "failed" || len(v.Approvals) != 1 || v.Approvals[0].State != "cancelled" || !strings.Contains(v.Error, "shutting down") {
		t.Errorf("after shutdown: state %s, error %q, approvals %+v; want failed, the approval cancelled, shutting down", v.State, v.Error, v.Approvals)
	}
	if code, body := s.decide(t, writer, id, a.ID, "approve"); code != http.StatusConflict {
		t.Errorf("approving after shutdown: %d %s, want 409", code, body)
	}
	if code, _ := do(t, http.MethodGet, s.URL+"/readyz", "", nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while shutting down: %d, want 503", code)
	}
	if code, body := do(t, http.MethodPost, s.URL+"/api/v1/requests", writer, map[string]any{"text": "list pods"}, nil); code != http.StatusServiceUnavailable {
		t.Errorf("submit while shutting down: %d %s, want 503", code, body)
	}
	if n := e.Replicas(t, "web"); n != 1 {
		t.Errorf("replicas = %d after shutdown, want 1", n)
	}
}

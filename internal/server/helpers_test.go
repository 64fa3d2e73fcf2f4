package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/server"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// Rules of the two callers the tests use: a writer that may scale
// deployments in the test namespace (and read what the scale's wait reads),
// and a reader that may only read.
var (
	readRules = []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets", "statefulsets"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"pods", "events", "services"}, Verbs: []string{"get", "list", "watch"}},
	}
	writeRules = append([]rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "deployments/scale"}, Verbs: []string{"get", "list", "watch", "patch", "update"}},
	}, readRules...)
)

// testServer is a server for one test, on a real loopback listener.
type testServer struct {
	*server.Server
	URL      string
	AuditLog string
}

// newTestServer serves the test cluster's API server in planner mode (no
// model: the test is deterministic). change adjusts the config.
func newTestServer(t testing.TB, e *testcluster.Env, change func(*server.Config)) *testServer {
	t.Helper()
	audit := filepath.Join(t.TempDir(), "audit.log")
	cfg := server.Config{Base: e.RESTConfig, PlannerOnly: true, LLM: config.Config{AuditLog: audit}}
	if change != nil {
		change(&cfg)
	}
	srv, url := startServer(t, cfg)
	return &testServer{Server: srv, URL: url, AuditLog: audit}
}

// startServer serves cfg on a loopback listener until the test ends and
// returns the server and its URL.
func startServer(t testing.TB, cfg server.Config) (*server.Server, string) {
	t.Helper()
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return srv, hs.URL
}

// do sends one API call with token (none if empty) and decodes the JSON
// answer into out (if not nil). It returns the status code and the body.
func do(t testing.TB, method, url, token string, body, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, url, b, err)
		}
	}
	return resp.StatusCode, string(b)
}

// Views as a client decodes them (the API's JSON, not the server's types).
type approvalView struct {
	ID      string `json:"id"`
	Tool    string `json:"tool"`
	Risk    string `json:"risk"`
	State   string `json:"state"`
	Reason  string `json:"reason"`
	Preview struct {
		Summary string `json:"summary"`
		Targets []struct {
			Kind, Namespace, Name string
		} `json:"targets"`
	} `json:"preview"`
	DecidedBy string `json:"decidedBy"`
}

type requestView struct {
	ID        string         `json:"id"`
	State     string         `json:"state"`
	Namespace string         `json:"namespace"`
	Approvals []approvalView `json:"approvals"`
	Error     string         `json:"error"`
	Run       *struct {
		Mode    string `json:"mode"`
		Answer  string `json:"answer"`
		Actions []struct {
			Tool       string `json:"tool"`
			Approved   bool   `json:"approved"`
			ApprovedBy string `json:"approvedBy"`
			Error      string `json:"error"`
		} `json:"actions"`
	} `json:"run"`
}

func (v requestView) ended() bool {
	return v.State == "succeeded" || v.State == "failed" || v.State == "cancelled"
}

func (v requestView) pending() []approvalView {
	var out []approvalView
	for _, a := range v.Approvals {
		if a.State == "pending" {
			out = append(out, a)
		}
	}
	return out
}

// submit starts a request and returns its id.
func (s *testServer) submit(t testing.TB, token string, body map[string]any) string {
	t.Helper()
	var v requestView
	if code, b := do(t, http.MethodPost, s.URL+"/api/v1/requests", token, body, &v); code != http.StatusAccepted {
		t.Fatalf("submit %v: %d %s", body, code, b)
	}
	return v.ID
}

// waitFor polls the request until cond holds, failing after a minute.
func (s *testServer) waitFor(t testing.TB, token, id, what string, cond func(requestView) bool) requestView {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var v requestView
		if code, b := do(t, http.MethodGet, s.URL+"/api/v1/requests/"+id, token, nil, &v); code != http.StatusOK {
			t.Fatalf("get request %s: %d %s", id, code, b)
		}
		if cond(v) {
			return v
		}
		if v.ended() || time.Now().After(deadline) {
			t.Fatalf("request %s: %s did not happen; state %s, error %q, approvals %+v", id, what, v.State, v.Error, v.Approvals)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *testServer) waitPending(t testing.TB, token, id string) approvalView {
	t.Helper()
	v := s.waitFor(t, token, id, "a pending approval", func(v requestView) bool { return len(v.pending()) > 0 })
	return v.pending()[0]
}

func (s *testServer) waitEnded(t testing.TB, token, id string) requestView {
	t.Helper()
	return s.waitFor(t, token, id, "the end", requestView.ended)
}

func (s *testServer) decide(t testing.TB, token, id, approval, decision string) (int, string) {
	t.Helper()
	return do(t, http.MethodPost, s.URL+"/api/v1/requests/"+id+"/approvals/"+approval, token, map[string]string{"decision": decision}, nil)
}

// newScaleSetup is what the approval tests start from: a namespace with
// deployment "web" at 1 replica, a server over it (change adjusts its
// config) and the token of a caller who may scale web.
func newScaleSetup(t testing.TB, change func(*server.Config)) (e *testcluster.Env, s *testServer, writer string) {
	t.Helper()
	e = testcluster.New(t)
	s = newTestServer(t, e, change)
	writer = e.CallerToken(t, "writer", writeRules...)
	e.Deployment(t, "web", 1)
	return e, s, writer
}

// pendingScale submits "scale web to 2" in e's namespace as token and
// waits for the approval it asks for.
func (s *testServer) pendingScale(t testing.TB, e *testcluster.Env, token string) (id string, a approvalView) {
	t.Helper()
	id = s.submit(t, token, map[string]any{"text": "scale web to 2", "namespace": e.Namespace})
	return id, s.waitPending(t, token, id)
}

// sseEvent is one event read from a stream.
type sseEvent struct {
	ID, Type string
	Data     json.RawMessage
}

// readEvents reads a request's event stream to its end.
func readEvents(t testing.TB, ctx context.Context, url, token string) []sseEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Error(err)
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("event stream: %v", err)
		return nil
	}
	defer func() { _ = resp.Body.Close() }()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Errorf("event stream: %d %s", resp.StatusCode, ct)
		return nil
	}
	var evs []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.Type != "" {
				evs = append(evs, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			cur.Type = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.Data = json.RawMessage(strings.TrimPrefix(line, "data: "))
		}
	}
	return evs
}

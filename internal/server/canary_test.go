package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/opsagent/opsagent/internal/agent/agenttest"
	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/server"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools/diagtools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// namespaceReader may read everything in the test namespace, Secrets
// included: what redaction by value needs (it reads the Secrets with the
// caller's own token).
var namespaceReader = []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}}}

// canaryTranscript is everything one caller received over HTTP, by what
// was asked.
type canaryTranscript map[string]string

// assertClean fails for every canary in any response, and unless some
// response shows a redaction (proof that a canary reached serve's output
// and was removed, so that a leak would be seen).
func (tr canaryTranscript) assertClean(t *testing.T, c testcluster.Canaries, mustRedact ...string) {
	t.Helper()
	for what, body := range tr {
		for _, leak := range c.All() {
			if strings.Contains(body, leak) {
				t.Errorf("%s: the response contains the canary %q: %.400s", what, leak, body)
			}
		}
	}
	for _, what := range mustRedact {
		if !strings.Contains(tr[what], redact.Redacted) {
			t.Errorf("%s shows no %s, so no canary reached it and the test proves nothing: %.400s", what, redact.Redacted, tr[what])
		}
	}
}

// ask submits text, reads the request's event stream to its end and then
// the request itself, recording both in tr.
func (s *testServer) ask(t *testing.T, tr canaryTranscript, token, namespace, text string) requestView {
	t.Helper()
	id := s.submit(t, token, map[string]any{"text": text, "namespace": namespace})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var stream strings.Builder
	for _, ev := range readEvents(t, ctx, s.URL+"/api/v1/requests/"+id+"/events", token) {
		stream.WriteString(ev.Type + " " + string(ev.Data) + "\n")
	}
	tr[text+" (events)"] = stream.String()
	var v requestView
	code, body := do(t, http.MethodGet, s.URL+"/api/v1/requests/"+id, token, nil, &v)
	if code != http.StatusOK || !v.ended() {
		t.Fatalf("%q: %d %s, want the ended request", text, code, body)
	}
	tr[text] = body
	return v
}

// get records a GET's answer in tr.
func (s *testServer) get(t *testing.T, tr canaryTranscript, token, path string) {
	t.Helper()
	code, body := do(t, http.MethodGet, s.URL+path, token, nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	tr[path] = body
}

// TestServeCanaryNeverInResponses plants Secret values where the read
// tools show them (testcluster.PlantCanaries: a Secret, a pod's env and
// annotation, a ConfigMap's password and DATABASE_URL, the pod's logs, one
// line of them bare) and asks serve, in planner mode, to get, list,
// describe, show logs and events, diagnose and explain: no response body
// and no event carries a canary.
func TestServeCanaryNeverInResponses(t *testing.T) {
	t.Parallel()
	e := testcluster.New(t)
	c := e.PlantCanaries(t)
	s := newTestServer(t, e, nil)
	reader := e.CallerToken(t, "reader", namespaceReader...)
	ns, pod := e.Namespace, testcluster.CanaryPod

	tr := canaryTranscript{}
	logs := "show logs of pod " + pod
	for _, text := range []string{
		logs,
		"show previous logs of pod " + pod,
		"describe pod " + pod,
		"describe secret db",
		"describe configmap app-config",
		"describe deployment app",
		"list pods",
		"list secrets",
		"list configmaps",
		"events in " + ns,
		"why is pod " + pod + " failing?",
		"diagnose " + ns,
	} {
		if v := s.ask(t, tr, reader, ns, text); v.State != "succeeded" {
			t.Errorf("%q: state %s, error %q", text, v.State, v.Error)
		}
	}
	q := url.Values{"namespace": {ns}}
	s.get(t, tr, reader, "/api/v1/diagnose?"+q.Encode())
	s.get(t, tr, reader, "/api/v1/explain?"+q.Encode())
	q.Set("name", pod)
	s.get(t, tr, reader, "/api/v1/explain?"+q.Encode())
	s.get(t, tr, reader, "/api/v1/requests")

	// The bare line is removed only by value: serve must redact with the
	// Secrets the caller can read, not with patterns alone.
	if !strings.Contains(tr[logs], "retrying as "+redact.Redacted) {
		t.Errorf("%q does not show the bare Secret value redacted: %.600s", logs, tr[logs])
	}
	tr.assertClean(t, c, logs, logs+" (events)", "describe pod "+pod, "describe configmap app-config", "/api/v1/explain?"+q.Encode())
}

// TestServeCanaryNeverReachesTheModel lets the (fake) model read the
// canaries through every read tool over serve: no request body sent to the
// model, no response body and no event carries one.
func TestServeCanaryNeverReachesTheModel(t *testing.T) {
	t.Parallel()
	e := testcluster.New(t)
	c := e.PlantCanaries(t)
	pod := testcluster.CanaryPod
	m := agenttest.NewFakeModel(t,
		agenttest.Calls(
			agenttest.Call("logs", kubetools.NamePodLogs, `{"name":"`+pod+`"}`),
			agenttest.Call("previous", kubetools.NamePodLogs, `{"name":"`+pod+`","previous":true}`),
			agenttest.Call("pod", kubetools.NameGetResource, `{"kind":"pod","name":"`+pod+`"}`),
			agenttest.Call("secret", kubetools.NameGetResource, `{"kind":"secret","name":"db"}`),
			agenttest.Call("cm", kubetools.NameGetResource, `{"kind":"configmap","name":"app-config"}`),
			agenttest.Call("deploy", kubetools.NameGetResource, `{"kind":"deployment","name":"app"}`),
			agenttest.Call("list-pods", kubetools.NameListResources, `{"kind":"pods"}`),
			agenttest.Call("list-cm", kubetools.NameListResources, `{"kind":"configmaps"}`),
		),
		agenttest.Calls( // at most 8 calls are run from one reply
			agenttest.Call("events", kubetools.NameListEvents, `{}`),
			agenttest.Call("diagnose", diagtools.NameDiagnose, `{}`),
			agenttest.Call("explain", diagtools.NameExplain, `{"name":"`+pod+`"}`),
		),
		agenttest.Answer("the database password is wrong"),
	)
	s := newTestServer(t, e, func(cfg *server.Config) {
		cfg.PlannerOnly = false
		cfg.LLM.APIKey, cfg.LLM.BaseURL, cfg.LLM.Model = "test-key-0123456789", m.URL(), "fake"
	})
	reader := e.CallerToken(t, "reader", namespaceReader...)

	tr := canaryTranscript{}
	const question = "why does leaky fail to connect to its database?"
	v := s.ask(t, tr, reader, e.Namespace, question)
	if v.State != "succeeded" || v.Run == nil || v.Run.Mode != "llm" || len(v.Run.Actions) != 11 {
		t.Fatalf("state %s, error %q, run %+v; want the model's 11 reads to succeed", v.State, v.Error, v.Run)
	}
	tr.assertClean(t, c, question, question+" (events)")

	reqs := m.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d model requests, want 3", len(reqs))
	}
	for i, req := range reqs {
		for _, leak := range c.All() {
			if strings.Contains(req.Body, leak) {
				t.Errorf("request %d to the model contains the canary %q", i, leak)
			}
		}
	}
	msgs := reqs[2].ToolMessagesByID()
	for _, id := range []string{"logs", "previous", "pod", "cm", "explain"} {
		if !strings.Contains(msgs[id], redact.Redacted) {
			t.Errorf("tool message %s shows no redaction, so no canary reached it: %.300s", id, msgs[id])
		}
	}
}

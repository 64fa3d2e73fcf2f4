package agent_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/agent/agenttest"
	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/diagnose/llmexplain"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/diagtools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
)

// canaryCluster plants the canaries (testcluster.PlantCanaries) in a
// namespace of its own and returns it with clients for the tools.
func canaryCluster(t *testing.T) (*testcluster.Env, *kube.Clients, testcluster.Canaries) {
	t.Helper()
	env := testcluster.New(t)
	c := env.PlantCanaries(t)
	clients, err := kube.NewClients(env.Getter())
	if err != nil {
		t.Fatal(err)
	}
	return env, clients, c
}

// assertNoCanary fails for every canary found in a request body.
func assertNoCanary(t *testing.T, what string, reqs []agenttest.Request, c testcluster.Canaries) {
	t.Helper()
	if len(reqs) == 0 {
		t.Fatalf("%s: the model received no request", what)
	}
	for i, req := range reqs {
		for _, leak := range c.All() {
			if strings.Contains(req.Body, leak) {
				t.Errorf("%s: request %d to the model contains the canary %q", what, i, leak)
			}
		}
	}
}

// TestCanarySecretNeverReachesTheModel lets the (fake) model read the
// planted canaries through every read tool — get_resource (describe),
// list_resources, pod_logs, list_events, diagnose and explain — and checks
// that no request body carries one, while the same calls made directly show
// that the canaries did reach the tools' output.
func TestCanarySecretNeverReachesTheModel(t *testing.T) {
	env, clients, c := canaryCluster(t)
	ctx := context.Background()
	reg := tools.NewRegistry(append(kubetools.New(clients), diagtools.New(clients)...)...)
	gate := &tools.Gate{Registry: reg, Approver: &tools.Policy{}}
	calls := []openai.ToolCall{
		agenttest.Call("logs", kubetools.NamePodLogs, `{"name":"leaky"}`),
		agenttest.Call("cm", kubetools.NameGetResource, `{"kind":"configmap","name":"app-config"}`),
		agenttest.Call("pod", kubetools.NameGetResource, `{"kind":"pod","name":"leaky"}`),
		agenttest.Call("deploy", kubetools.NameGetResource, `{"kind":"deployment","name":"app"}`),
		agenttest.Call("list-cm", kubetools.NameListResources, `{"kind":"configmaps"}`),
		agenttest.Call("list-pods", kubetools.NameListResources, `{"kind":"pods"}`),
		agenttest.Call("events", kubetools.NameListEvents, `{}`),
	}
	diag := []openai.ToolCall{
		agenttest.Call("diagnose", diagtools.NameDiagnose, `{}`),
		agenttest.Call("explain-pod", diagtools.NameExplain, `{"name":"leaky"}`),
		agenttest.Call("explain-deploy", diagtools.NameExplain, `{"name":"app","kind":"deployment"}`),
	}

	// The canaries do reach the tools: without redaction they would leak.
	// (get_resource itself shows a literal DB_PASSWORD env value masked, so
	// the env canary reaches the model's side only through the logs.)
	reached := map[string][]string{"logs": {c.Secret, c.SecretB64, c.Env, c.ConfigMap, c.URL}, "cm": {c.ConfigMap, c.URL, c.SecretB64}, "pod": {c.Secret}}
	for _, call := range calls {
		want := reached[call.ID]
		if want == nil {
			continue
		}
		rec := gate.Call(ctx, call.Function.Name, json.RawMessage(call.Function.Arguments))
		out, _ := json.Marshal(rec.Result)
		for _, v := range want {
			if !strings.Contains(string(out), v) {
				t.Errorf("%s returns no %q, so the test would not notice a leak: %.400s", call.ID, v, out)
			}
		}
	}

	m := agenttest.NewFakeModel(t, agenttest.Calls(calls...), agenttest.Calls(diag...), agenttest.Answer("done"))
	a, err := agent.New(agent.Config{
		Gate: gate, Planner: planner.New(reg), Model: m.Client(), ModelName: "fake",
		Redactor: redact.New(env.Client, nil),
		Prompt:   agent.PromptData{Context: "test", Namespace: env.Namespace},
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := a.Run(ctx, "why does leaky fail to connect?")
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range run.Actions {
		if rec.Err() != nil {
			t.Fatalf("%s failed: %v", rec.Tool, rec.Err())
		}
	}
	reqs := m.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d model requests, want 3", len(reqs))
	}
	assertNoCanary(t, "agent", reqs, c)
	msgs := reqs[2].ToolMessagesByID()
	for _, id := range []string{"logs", "cm", "pod", "deploy", "explain-pod"} {
		if !strings.Contains(msgs[id], redact.Redacted) {
			t.Errorf("tool message %s shows no redaction, so no canary reached it: %.300s", id, msgs[id])
		}
	}
	if !strings.Contains(msgs["diagnose"], "leaky") {
		t.Errorf("diagnose did not report the crashing pod, so its logs were not read: %.300s", msgs["diagnose"])
	}
}

// TestCanaryNeverReachesExplainModel runs `diagnose --explain` on the
// planted canaries: the diagnosis reads the crashing pod's logs, and every
// group is sent to the (fake) model.
func TestCanaryNeverReachesExplainModel(t *testing.T) {
	env, clients, c := canaryCluster(t)
	ctx := context.Background()
	d, err := diagnose.New(clients)
	if err != nil {
		t.Fatal(err)
	}
	var rep *diagnose.Report
	deadline := time.Now().Add(45 * time.Second)
	for {
		rep, err = d.Diagnose(ctx, diagnose.Options{Namespace: env.Namespace, NamespaceExplicit: true})
		if err != nil {
			t.Fatal(err)
		}
		if logsRead(rep) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finding with logs after 45s: %d groups", len(rep.Groups))
		}
		time.Sleep(500 * time.Millisecond)
	}
	m := agenttest.NewFakeModelFunc(t, func(int, openai.ChatCompletionRequest) agenttest.Reply { return agenttest.Answer("explained") })
	if err := llmexplain.New(llmexplain.Config{Client: m.Client(), Model: "fake"}).Explain(ctx, rep); err != nil {
		t.Fatal(err)
	}
	assertNoCanary(t, "diagnose --explain", m.Requests(), c)
	if body := strings.Join(bodies(m.Requests()), "\n"); !strings.Contains(body, redact.Redacted) {
		t.Errorf("no request shows a redaction, so the logs with the canaries were not sent")
	}
}

func logsRead(rep *diagnose.Report) bool {
	for _, g := range rep.Groups {
		for _, f := range g.Findings {
			if l := f.Evidence.Logs; l != nil && len(l.Lines) > 0 {
				return true
			}
		}
	}
	return false
}

func bodies(reqs []agenttest.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Body
	}
	return out
}

// TestCanaryNeverReachesTheModelFromHelmTools installs the chart with a
// canary database password (stored in the chart's Secret and in its
// DATABASE_URL) and a canary literal env value, then lets the model read the
// release's status and history, a deploy's preview, and the backend
// Deployment the chart made.
func TestCanaryNeverReachesTheModelFromHelmTools(t *testing.T) {
	env := testcluster.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const dbPassword, envToken = "helmdbcanary-3e8a61f0", "helmenvcanary-9b27d4c5"
	rc, err := release.New(env.Getter(), env.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Deploy(ctx, release.DeployOptions{Values: release.Values{Overrides: map[string]any{
		"postgresql": map[string]any{"auth": map[string]any{"password": dbPassword}},
		"backend":    map[string]any{"extraEnv": []any{map[string]any{"name": "API_TOKEN", "value": envToken}}},
	}}}); err != nil {
		t.Fatalf("install the chart: %v", err)
	}

	clients, err := kube.NewClients(env.Getter())
	if err != nil {
		t.Fatal(err)
	}
	reg := tools.NewRegistry(append(kubetools.New(clients), releasetools.New(env.Getter(), env.Namespace, releasetools.Options{})...)...)
	m := agenttest.NewFakeModel(t,
		agenttest.Calls(
			agenttest.Call("status", releasetools.NameStatus, `{}`),
			agenttest.Call("history", releasetools.NameHistory, `{}`),
			agenttest.Call("preview", releasetools.NameDeploy, `{"values_set":["backend.replicaCount=2"],"reuse_values":true}`),
			agenttest.Call("backend", kubetools.NameGetResource, `{"kind":"deployment","name":"todo-chatbot-backend"}`),
		),
		agenttest.Answer("done"),
	)
	a, err := agent.New(agent.Config{
		Gate:    &tools.Gate{Registry: reg, Approver: &tools.Policy{}},
		Planner: planner.New(reg), Model: m.Client(), ModelName: "fake",
		Redactor: redact.New(env.Client, nil),
		Prompt:   agent.PromptData{Context: "test", Namespace: env.Namespace},
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := a.Run(ctx, "show the release and what an upgrade to 2 backend replicas would change")
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Actions) != 4 || run.Actions[2].Preview == nil {
		t.Fatalf("actions = %+v, want 4 with the deploy previewed", run.Actions)
	}
	for _, leak := range []string{dbPassword, envToken} {
		for i, req := range m.Requests() {
			if strings.Contains(req.Body, leak) {
				t.Errorf("request %d to the model contains the canary %q", i, leak)
			}
		}
	}
	msgs := m.Requests()[1].ToolMessagesByID()
	if !strings.Contains(msgs["backend"], "API_TOKEN="+redact.Redacted) {
		t.Errorf("backend description shows no redacted API_TOKEN: %.400s", msgs["backend"])
	}
}

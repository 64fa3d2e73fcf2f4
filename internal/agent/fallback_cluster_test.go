package agent_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/agent/agenttest"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/diagtools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// sandboxFallback is one test's namespace with a Todo-like pair of
// deployments, and agents over the real tools: one with no model, one whose
// model endpoint always answers 500.
type sandboxFallback struct {
	env     *testcluster.Env
	noKey   *agent.Agent
	failing *agent.Agent
}

func newSandboxFallback(t *testing.T) *sandboxFallback {
	t.Helper()
	env := testcluster.New(t)
	// Settled deployments: status updates would change resourceVersions.
	env.Deployment(t, "todo-chatbot-backend", 2, todoContainer("backend", "registry.example/todo-backend:1.3"))
	env.Deployment(t, "todo-chatbot-frontend", 1, todoContainer("frontend", "registry.example/todo-frontend:1.3"))

	clients, err := kube.NewClients(env.Getter())
	if err != nil {
		t.Fatal(err)
	}
	reg := tools.NewRegistry(slices.Concat(kubetools.New(clients), diagtools.New(clients))...)
	gate := &tools.Gate{Registry: reg, Approver: &tools.Policy{AssumeYes: true}, Scope: tools.Scope{Namespace: env.Namespace}}
	cfg := agent.Config{
		Gate: gate, Planner: planner.New(reg),
		Prompt:        agent.PromptData{Context: "sandbox", Namespace: env.Namespace},
		Retry:         agent.Retry{Attempts: 2, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond},
		NoModelReason: "no OPENAI_API_KEY set",
	}
	noKey, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := agenttest.NewFakeModelFunc(t, func(int, openai.ChatCompletionRequest) agenttest.Reply {
		return agenttest.Fail(http.StatusInternalServerError)
	})
	cfg.Model, cfg.ModelName = m.Client(), "fake-model"
	failing, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &sandboxFallback{env: env, noKey: noKey, failing: failing}
}

// todoContainer names the deployment's container and image as the Todo
// chart does, which the planner's phrasings refer to.
func todoContainer(name, image string) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) {
		c := &d.Spec.Template.Spec.Containers[0]
		c.Name, c.Image = name, image
	}
}

func (s *sandboxFallback) deployment(t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	d, err := s.env.Client.AppsV1().Deployments(s.env.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment %s: %v", name, err)
	}
	return d
}

// versions returns each deployment's generation and resourceVersion.
func (s *sandboxFallback) versions(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"todo-chatbot-backend", "todo-chatbot-frontend"} {
		d := s.deployment(t, name)
		out[name] = d.ResourceVersion
		out[name+"/generation"] = strconv.FormatInt(d.Generation, 10)
	}
	return out
}

func (s *sandboxFallback) run(t *testing.T, a *agent.Agent, request string) *agent.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	run, err := a.Run(ctx, request)
	if err != nil {
		t.Fatalf("Run(%q): %v", request, err)
	}
	if run.Mode != agent.ModeFallback {
		t.Fatalf("Run(%q) mode = %s, want fallback", request, run.Mode)
	}
	return run
}

// TestFallbackChangesOnSandbox: with no model, the planner's new phrasings
// change the deployment as said.
func TestFallbackChangesOnSandbox(t *testing.T) {
	t.Parallel()
	s := newSandboxFallback(t)
	const backend = "todo-chatbot-backend"

	run := s.run(t, s.noKey, "set backend image to registry.example/todo-backend:1.4")
	if run.Err() != nil {
		t.Fatalf("set image: %v\n%s", run.Err(), run.Answer)
	}
	if img := s.deployment(t, backend).Spec.Template.Spec.Containers[0].Image; img != "registry.example/todo-backend:1.4" {
		t.Errorf("image = %s, want registry.example/todo-backend:1.4", img)
	}

	run = s.run(t, s.noKey, "give the backend 512Mi memory")
	if run.Err() != nil {
		t.Fatalf("give memory: %v\n%s", run.Err(), run.Answer)
	}
	res := s.deployment(t, backend).Spec.Template.Spec.Containers[0].Resources
	if res.Requests.Memory().String() != "512Mi" || res.Limits.Memory().String() != "512Mi" {
		t.Errorf("memory request %s limit %s, want 512Mi both", res.Requests.Memory(), res.Limits.Memory())
	}

	run = s.run(t, s.noKey, "scale backend up by 100%")
	if run.Err() != nil {
		t.Fatalf("scale up by 100%%: %v\n%s", run.Err(), run.Answer)
	}
	if got := *s.deployment(t, backend).Spec.Replicas; got != 4 {
		t.Errorf("replicas = %d after scaling 2 up by 100%%, want 4", got)
	}
	if len(run.Actions) != 1 || run.Actions[0].Preview == nil || !strings.Contains(run.Actions[0].Preview.Summary, "2 → 4") {
		t.Errorf("the preview does not show the computed count: %+v", run.Actions)
	}

	// After a model failure an exact command is still made.
	run = s.run(t, s.failing, "set backend image to registry.example/todo-backend:1.5")
	if run.Err() != nil {
		t.Fatalf("set image after a model failure: %v\n%s", run.Err(), run.Answer)
	}
	if img := s.deployment(t, backend).Spec.Template.Spec.Containers[0].Image; img != "registry.example/todo-backend:1.5" {
		t.Errorf("image = %s, want registry.example/todo-backend:1.5", img)
	}
}

// TestFallbackQuestionsChangeNothingOnSandbox: questions that name changes
// run reads only, with no model and after a model failure.
func TestFallbackQuestionsChangeNothingOnSandbox(t *testing.T) {
	t.Parallel()
	s := newSandboxFallback(t)
	questions := []string{
		"why did the backend restart?",
		"why does the backend have 0 replicas?",
		"why did the upgrade fail?",
		"how do I scale the backend?",
		"should I restart the frontend?",
		"what would happen if I scale backend to 0?",
		"can you explain why the rollback happened?",
		"restart the frontend?",
		"is it safe to set backend image to registry.example/todo-backend:2.0?",
		"how do I give the backend 512Mi memory?",
	}
	before := s.versions(t)
	for _, a := range []*agent.Agent{s.noKey, s.failing} {
		for _, q := range questions {
			run := s.run(t, a, q)
			for _, rec := range run.Actions {
				if rec.Risk.Mutates() {
					t.Errorf("%q ran %s (risk %s)", q, rec.Tool, rec.Risk)
				}
			}
			if len(run.Actions) == 0 {
				t.Errorf("%q ran nothing: %v", q, run.Err())
			}
		}
	}
	if after := s.versions(t); !maps.Equal(before, after) {
		t.Errorf("questions changed the deployments: before %v, after %v", before, after)
	}
}

// TestFallbackAfterModelFailureRefusesInexactChanges: when the model fails,
// a change the planner maps only in part is refused, saying what it
// understood, and nothing changes.
func TestFallbackAfterModelFailureRefusesInexactChanges(t *testing.T) {
	t.Parallel()
	s := newSandboxFallback(t)
	before := s.versions(t)
	for _, tt := range []struct{ request, understood, ignored string }{
		{"restart the crashing backend", `restart_workload {"name":"backend"}`, `"crashing"`},
		{"scale backend to 3 replicas, check the logs", `scale_workload {"name":"backend","replicas":3}`, `"check", "logs"`},
	} {
		run := s.run(t, s.failing, tt.request)
		var fe *agent.FallbackError
		if !errors.As(run.Err(), &fe) || fe.Plan == nil {
			t.Fatalf("%q: err = %v, want a *FallbackError with the plan", tt.request, run.Err())
		}
		msg := run.Err().Error()
		for _, want := range []string{"500", "not one the planner can safely map", tt.understood, tt.ignored, "made no change"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%q: error %q does not say %q", tt.request, msg, want)
			}
		}
		if tools.IsBadInput(run.Err()) || len(run.Actions) != 0 {
			t.Errorf("%q: bad input %v, %d actions; want a failure with no action", tt.request, tools.IsBadInput(run.Err()), len(run.Actions))
		}
	}
	// With no model the same request is the user's command (approved here by --yes).
	if run := s.run(t, s.noKey, "scale backend to 3 replicas, check the logs"); run.Err() != nil {
		t.Errorf("no key: %v", run.Err())
	}
	if got := *s.deployment(t, "todo-chatbot-backend").Spec.Replicas; got != 3 {
		t.Errorf("replicas = %d, want 3 after the no-key command", got)
	}
	if after := s.versions(t); after["todo-chatbot-frontend"] != before["todo-chatbot-frontend"] {
		t.Errorf("the frontend changed")
	}
}

package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/agent/agenttest"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// realSchemas returns the real kube tools that the in-memory cluster fakes
// (for their names, descriptions and schemas) running against it, so that
// prompt sizes are the production ones without needing a cluster. The
// budget of the whole registry is TestPromptBudget in internal/cli.
func realSchemas(c *agenttest.Cluster) *tools.Registry {
	fakes := tools.NewRegistry(c.Tools()...)
	var out []tools.Tool
	for _, t := range kubetools.New(&kube.Clients{}) {
		exec, err := fakes.Lookup(t.Name())
		if err != nil {
			continue // not faked: not used by the benchmark
		}
		out = append(out, schemaOf{Tool: t, exec: exec})
	}
	return tools.NewRegistry(out...)
}

// schemaOf is a real tool's description and schema with a fake tool's
// execution (the fake's arguments mirror the real ones).
type schemaOf struct {
	tools.Tool
	exec tools.Tool
}

func (s schemaOf) Prepare(ctx context.Context, raw json.RawMessage) (tools.Action, error) {
	return s.exec.Prepare(ctx, raw)
}

// BenchmarkSingleActionRequest measures the model calls and prompt tokens of
// "scale backend to N" through the real go-openai client and the fake model
// server, with the production tool schemas.
func BenchmarkSingleActionRequest(b *testing.B) {
	c := agenttest.NewCluster("todo", map[string]int{"todo-chatbot-backend": 1})
	reg := realSchemas(c)
	m := agenttest.NewFakeModelFunc(b, func(n int, req openai.ChatCompletionRequest) agenttest.Reply {
		if len(req.Messages) == 2 { // system + user: a new request
			return agenttest.Calls(agenttest.Call("c1", "scale_workload",
				fmt.Sprintf(`{"name":"backend","replicas":%d}`, 2+n%2)))
		}
		return agenttest.Answer("Scaled.")
	})
	a, err := agent.New(agent.Config{
		Gate:    &tools.Gate{Registry: reg, Approver: &tools.Policy{AssumeYes: true}, Scope: tools.Scope{Namespace: "todo"}},
		Planner: planner.New(reg), Model: m.Client(), ModelName: "fake",
		Prompt: agent.PromptData{Context: "minikube", Namespace: "todo"},
	})
	if err != nil {
		b.Fatal(err)
	}
	size, err := agent.MeasurePrompt(reg, agent.PromptData{Context: "minikube", Namespace: "todo"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	calls, promptTokens := 0, 0
	b.ResetTimer()
	for b.Loop() {
		run, err := a.Run(ctx, "scale backend to 3")
		if err != nil || run.Err() != nil || run.Mode != agent.ModeLLM {
			b.Fatalf("run: %v %v %s", err, run.Err(), run.Mode)
		}
		calls += run.Usage.LLMCalls
		promptTokens += run.Usage.PromptTokens
	}
	b.ReportMetric(float64(calls)/float64(b.N), "llm-calls/op")
	b.ReportMetric(float64(promptTokens)/float64(b.N), "prompt-tokens/op")
	b.ReportMetric(float64(size.Tokens), "fixed-prompt-tokens")
}

package cli

import (
	"testing"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/toolset"
)

// promptGoal is the budget, in estimated tokens, for what every model
// request carries before the conversation: the system prompt and the
// schema of every tool the agent registers.
const promptGoal = 3000

// TestPromptBudget measures the production registry (toolset.New), so a
// new tool's description and schema count against the budget the day it
// is registered.
func TestPromptBudget(t *testing.T) {
	t.Parallel()
	reg := tools.NewRegistry(toolset.New(&kube.Clients{Namespace: "todo"}, toolset.Options{})...)
	size, err := agent.MeasurePrompt(reg, agent.PromptData{Context: "minikube", Namespace: "todo"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tools: system prompt ~%d tokens + tool schemas %d chars (~%d tokens) = ~%d tokens (goal %d)",
		len(reg.Names()), size.SystemTokens, size.ToolsChars, size.Tokens-size.SystemTokens, size.Tokens, promptGoal)
	if size.SystemTokens > 450 {
		t.Errorf("system prompt is ~%d tokens, want at most 450", size.SystemTokens)
	}
	if size.Tokens > promptGoal {
		t.Errorf("system prompt + %d tool schemas = ~%d tokens, over the %d goal", len(reg.Names()), size.Tokens, promptGoal)
	}
}

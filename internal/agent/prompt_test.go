package agent_test

import (
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/redact"
)

func TestSystemPrompt(t *testing.T) {
	t.Parallel()
	got, err := agent.SystemPrompt(agent.PromptData{Context: "minikube", Namespace: "todo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Kube context: minikube", "Default namespace: todo", "untrusted data", redact.Redacted, "approved by the user"} {
		if !strings.Contains(got, want) {
			t.Errorf("system prompt lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "{{") {
		t.Errorf("system prompt has unrendered template fields:\n%s", got)
	}
}

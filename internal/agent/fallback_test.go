package agent_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/agent/agenttest"
	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/tools"
)

func failingModel(t *testing.T) *agenttest.FakeModel {
	return agenttest.NewFakeModelFunc(t, func(int, openai.ChatCompletionRequest) agenttest.Reply {
		return agenttest.Fail(http.StatusInternalServerError)
	})
}

func TestFallbackAfterModelFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, request string
		wantRefused   bool // a *FallbackError with the plan
		wantBad       bool // the planner could not map it
		wantMutations int
	}{
		{name: "exact change", request: "scale backend to 3", wantMutations: 1},
		{name: "polite exact change", request: "Could you please restart the backend?", wantMutations: 1},
		{name: "read", request: "show logs of backend last 20 lines"},
		{name: "question", request: "why did the backend restart?"},
		{name: "question naming a change", request: "how do I scale the backend to 3?"},
		{name: "leftover read words", request: "scale backend to 3 replicas, check the logs", wantRefused: true},
		{name: "leftover adjective", request: "restart the crashing backend", wantRefused: true},
		{name: "leftover number", request: "restart backend 3 times", wantRefused: true},
		{name: "condition", request: "scale backend to 3 if it is failing", wantBad: true},
		{name: "unmappable", request: "make the backend faster", wantBad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, fixtureOpts{policy: &tools.Policy{AssumeYes: true}}, failingModel(t))
			run := f.run(t, tt.request)
			if run.Mode != agent.ModeFallback {
				t.Fatalf("mode = %s, want fallback", run.Mode)
			}
			var fe *agent.FallbackError
			refused := errors.As(run.Err(), &fe) && fe.Plan != nil
			if refused != tt.wantRefused {
				t.Errorf("refused = %v (err %v), want %v", refused, run.Err(), tt.wantRefused)
			}
			if refused && (!strings.Contains(run.Error, "model endpoint failed") || !strings.Contains(run.Error, "it understood")) {
				t.Errorf("error %q does not say that the model failed and what was understood", run.Error)
			}
			if got := tools.IsBadInput(run.Err()); got != tt.wantBad {
				t.Errorf("bad input = %v (err %v), want %v", got, run.Err(), tt.wantBad)
			}
			var ue *planner.UnmappedError
			if tt.wantBad && !errors.As(run.Err(), &ue) {
				t.Errorf("err %v does not carry the planner's reason", run.Err())
			}
			if got := len(f.cluster.Mutations()); got != tt.wantMutations {
				t.Errorf("mutations = %v, want %d", f.cluster.Mutations(), tt.wantMutations)
			}
		})
	}
}

package planner_test

import (
	"testing"

	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/diagtools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
	"github.com/opsagent/opsagent/internal/tools/usagetools"
)

// Sizing questions go to recommend_resources, never to a change, and not to
// diagnose, whose words ("why") they share.
func TestPlanRecommend(t *testing.T) {
	t.Parallel()
	reg := tools.NewRegistry(append(append(kubetools.New(nil), diagtools.New(nil)...), offline[usagetools.RecommendArgs](usagetools.Recommend(nil)))...)
	p := planner.New(reg)
	tests := []struct{ request, args string }{
		{"is the backend oversized?", `{"name":"backend"}`},
		{"why is the backend over-provisioned in todo", `{"name":"backend","namespace":"todo"}`},
		{"recommend resources for the frontend", `{"name":"frontend"}`},
		{"right-size everything in shop", `{"namespace":"shop"}`},
	}
	for _, tc := range tests {
		plan, err := p.Plan(tc.request)
		if err != nil {
			t.Errorf("%q: %v", tc.request, err)
			continue
		}
		if len(plan.Calls) != 1 || plan.Calls[0].Tool != usagetools.NameRecommend || string(plan.Calls[0].Args) != tc.args {
			t.Errorf("%q planned %+v, want %s %s", tc.request, plan.Calls, usagetools.NameRecommend, tc.args)
		}
	}
}

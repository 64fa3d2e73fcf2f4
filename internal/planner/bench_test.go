package planner_test

import (
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/planner"
)

var benchRequests = []string{
	"scale backend to 3",
	"Could you please scale the backend deployment to five replicas in todo?",
	"show the last 50 lines of the previous backend logs",
	"what's running in todo",
	"why is the backend failing?",
}

// BenchmarkPlan is the planner's cost per request; BenchmarkBaselineFields
// is a trivial pass over the same text (lower-case and split) to compare
// against in the same run.
func BenchmarkPlan(b *testing.B) {
	p := planner.New(kubeRegistry())
	for b.Loop() {
		for _, r := range benchRequests {
			_, _ = p.Plan(r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchRequests)), "ns/request")
}

func BenchmarkBaselineFields(b *testing.B) {
	n := 0
	for b.Loop() {
		for _, r := range benchRequests {
			n += len(strings.Fields(strings.ToLower(r)))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchRequests)), "ns/request")
	if n == 0 {
		b.Fatal("no fields")
	}
}

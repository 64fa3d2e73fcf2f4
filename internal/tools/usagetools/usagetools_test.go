package usagetools_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/resolve"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
	"github.com/opsagent/opsagent/internal/tools/usagetools"
	"github.com/opsagent/opsagent/internal/usage"
)

// Each recommendation's call is decoded by the real tool's argument type
// and passes its validation, so what the tool hands a model (or --apply)
// is a call the gate accepts.
func TestApplyCall(t *testing.T) {
	t.Parallel()
	change := &usage.Change{RequestsCPU: "25m", RequestsMemory: "116Mi"}
	rec := func(w usage.Workload) usage.Recommendation {
		return usage.Recommendation{Namespace: "todo", Workload: w, Container: "api", Apply: change,
			Changes: []string{"requests.cpu 100m → 25m", "requests.memory 256Mi → 116Mi"}}
	}
	tests := []struct {
		name     string
		rec      usage.Recommendation
		tool     string
		check    func(t *testing.T, args json.RawMessage)
		wantNote string
	}{
		{
			name: "plain deployment: set_resources",
			rec:  rec(usage.Workload{Kind: "Deployment", Name: "web"}),
			tool: kubetools.NameSetResources,
			check: func(t *testing.T, raw json.RawMessage) {
				var a kubetools.SetResourcesArgs
				decode(t, raw, &a)
				if a.Kind != "deployment" || a.Name != "web" || a.Namespace != "todo" || a.Container != "api" ||
					a.RequestsCPU != "25m" || a.RequestsMemory != "116Mi" || a.LimitsCPU != "" || a.LimitsMemory != "" {
					t.Errorf("args %+v", a)
				}
				if err := a.Validate(); err != nil {
					t.Error(err)
				}
			},
		},
		{
			name: "built-in chart: the release's values, through helm_deploy",
			rec:  rec(usage.Workload{Kind: "Deployment", Name: "todo-chatbot-backend", HelmRelease: "todo-chatbot", HelmChart: "todo-chatbot-0.3.0", Component: "backend"}),
			tool: releasetools.NameDeploy,
			check: func(t *testing.T, raw json.RawMessage) {
				var a releasetools.DeployArgs
				decode(t, raw, &a)
				want := []string{"backend.resources.requests.cpu=25m", "backend.resources.requests.memory=116Mi"}
				if a.Release != "todo-chatbot" || a.Namespace != "todo" || !a.ReuseValues || a.ChartPath != "" || !slices.Equal(a.ValuesSet, want) {
					t.Errorf("args %+v, want reuse_values and %v", a, want)
				}
				if err := a.Validate(); err != nil {
					t.Error(err)
				}
			},
			wantNote: "next upgrade keeps it",
		},
		{
			name:     "another chart: set_resources, and the upgrade caveat",
			rec:      rec(usage.Workload{Kind: "StatefulSet", Name: "redis", HelmRelease: "cache", HelmChart: "redis-19.0.0"}),
			tool:     kubetools.NameSetResources,
			check:    func(t *testing.T, raw json.RawMessage) { decode(t, raw, &kubetools.SetResourcesArgs{}) },
			wantNote: "next helm upgrade resets it",
		},
		{
			name:     "a bare pod: no call",
			rec:      usage.Recommendation{Namespace: "todo", Workload: usage.Workload{Kind: "Pod", Name: "p"}, Container: "c", Changes: []string{"x"}},
			wantNote: "not changed in place",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			call, ok := usagetools.ApplyCall(tc.rec)
			if !ok || call.Tool != tc.tool {
				t.Fatalf("call %+v (ok %v), want tool %q", call, ok, tc.tool)
			}
			if tc.check != nil {
				tc.check(t, call.Args)
			}
			if !strings.Contains(call.Note, tc.wantNote) {
				t.Errorf("note %q, want it to say %q", call.Note, tc.wantNote)
			}
		})
	}
	if _, ok := usagetools.ApplyCall(usage.Recommendation{Workload: usage.Workload{Kind: "Deployment", Name: "ok"}}); ok {
		t.Error("a recommendation that changes nothing has a call")
	}
}

func decode(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

// TestRecommendArgsNamespaceIsTheSharedCheck: recommend_resources refuses
// a namespace exactly as every other tool does (resolve.CheckNamespace).
func TestRecommendArgsNamespaceIsTheSharedCheck(t *testing.T) {
	t.Parallel()
	for _, ns := range []string{"", "todo", "Bad_NS", "../kube-system"} {
		got, want := usagetools.RecommendArgs{Name: "web", Namespace: ns}.Validate(), resolve.CheckNamespace(ns)
		if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
			t.Errorf("Validate() with namespace %q = %v, want %v", ns, got, want)
		}
	}
}

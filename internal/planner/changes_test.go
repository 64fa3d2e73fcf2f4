package planner_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/configtools"
	"github.com/opsagent/opsagent/internal/tools/diagtools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
	"github.com/opsagent/opsagent/internal/tools/nodetools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
)

// offline declares a tool with t's name, risk and argument type A, whose
// Prepare decodes and validates exactly as t's does but reads nothing: the
// planner's calls are checked against the real schemas without a cluster.
func offline[A any](t tools.Tool) tools.Tool {
	return tools.Define(t.Name(), t.Description(), t.Risk(), func(context.Context, A) (tools.Action, error) {
		return tools.ReadResult(func(context.Context) (any, error) { return nil, nil }), nil
	})
}

// offlineRegistry holds every real tool the planner can call, offline.
func offlineRegistry(t testing.TB) *tools.Registry {
	t.Helper()
	wrap := map[string]func(tools.Tool) tools.Tool{
		kubetools.NameListResources:      offline[kubetools.ListResourcesArgs],
		kubetools.NameGetResource:        offline[kubetools.GetResourceArgs],
		kubetools.NamePodLogs:            offline[kubetools.PodLogsArgs],
		kubetools.NameListEvents:         offline[kubetools.ListEventsArgs],
		kubetools.NameRolloutStatus:      offline[kubetools.RolloutStatusArgs],
		kubetools.NameScaleWorkload:      offline[kubetools.ScaleWorkloadArgs],
		kubetools.NameRestartWorkload:    offline[kubetools.RestartWorkloadArgs],
		kubetools.NameRollbackDeployment: offline[kubetools.RollbackDeploymentArgs],
		kubetools.NameDeletePod:          offline[kubetools.DeletePodArgs],
		kubetools.NameSetImage:           offline[kubetools.SetImageArgs],
		kubetools.NameSetResources:       offline[kubetools.SetResourcesArgs],
		kubetools.NameSetEnv:             offline[kubetools.SetEnvArgs],
		kubetools.NameExpose:             offline[kubetools.ExposeArgs],
		kubetools.NameAutoscale:          offline[kubetools.AutoscaleArgs],
		kubetools.NameResizePVC:          offline[kubetools.ResizePVCArgs],
		nodetools.NameCordonNode:         offline[nodetools.NodeArgs],
		nodetools.NameUncordonNode:       offline[nodetools.NodeArgs],
		nodetools.NameDrainNode:          offline[nodetools.DrainNodeArgs],
		diagtools.NameDiagnose:           offline[diagtools.DiagnoseArgs],
		diagtools.NameExplain:            offline[diagtools.ExplainArgs],
		releasetools.NameStatus:          offline[releasetools.ReleaseArgs],
		releasetools.NameHistory:         offline[releasetools.ReleaseArgs],
		releasetools.NameRollback:        offline[releasetools.RollbackArgs],
		releasetools.NameUninstall:       offline[releasetools.UninstallArgs],
		releasetools.NameDeploy:          offline[releasetools.DeployArgs],
		configtools.NameCreateConfigMap:  offline[configtools.CreateConfigMapArgs],
	}
	real := slices.Concat(kubetools.New(nil), nodetools.New(nil), diagtools.New(nil),
		releasetools.New(nil, "", releasetools.Options{}), configtools.New(nil))
	var out []tools.Tool
	for _, tl := range real {
		w, ok := wrap[tl.Name()]
		if !ok {
			continue // a tool the planner does not call (create_secret, ...)
		}
		o := w(tl)
		if !reflect.DeepEqual(o.Schema(), tl.Schema()) {
			t.Fatalf("offline %s does not have the real tool's schema: the args type in offlineRegistry is wrong", tl.Name())
		}
		out = append(out, o)
	}
	return tools.NewRegistry(out...)
}

func TestPlanChanges(t *testing.T) {
	t.Parallel()
	p := planner.New(offlineRegistry(t))
	tests := []struct {
		request string
		want    call
	}{
		{"set backend image to todo-backend:1.4", call{kubetools.NameSetImage, `{"image":"todo-backend:1.4","name":"backend"}`}},
		{"update the frontend image to nginx:1.27", call{kubetools.NameSetImage, `{"image":"nginx:1.27","name":"frontend"}`}},
		{"set frontend image to nginx", call{kubetools.NameSetImage, `{"image":"nginx","name":"frontend"}`}},
		{"set backend image to ghcr.io/acme/todo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			call{kubetools.NameSetImage, `{"image":"ghcr.io/acme/todo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","name":"backend"}`}},
		{"Set the image of deployment/todo-backend to registry.example:5000/todo/backend:V1.4 -c api -n todo",
			call{kubetools.NameSetImage, `{"container":"api","image":"registry.example:5000/todo/backend:V1.4","kind":"deployment","name":"todo-backend","namespace":"todo"}`}},
		{"give the backend 512Mi memory", call{kubetools.NameSetResources, `{"limits_memory":"512Mi","name":"backend","requests_memory":"512Mi"}`}},
		{"give the backend 512Mi of memory", call{kubetools.NameSetResources, `{"limits_memory":"512Mi","name":"backend","requests_memory":"512Mi"}`}},
		{"give the backend 1gi memory", call{kubetools.NameSetResources, `{"limits_memory":"1Gi","name":"backend","requests_memory":"1Gi"}`}},
		{"set backend memory limit to 1Gi", call{kubetools.NameSetResources, `{"limits_memory":"1Gi","name":"backend"}`}},
		{"set backend cpu limit to 500m", call{kubetools.NameSetResources, `{"limits_cpu":"500m","name":"backend"}`}},
		{"set the backend cpu request to 250m", call{kubetools.NameSetResources, `{"name":"backend","requests_cpu":"250m"}`}},
		{"set backend cpu limit to 1 and memory request to 256Mi", call{kubetools.NameSetResources, `{"limits_cpu":"1","name":"backend","requests_memory":"256Mi"}`}},
		{"set backend cpu request to 0.5", call{kubetools.NameSetResources, `{"name":"backend","requests_cpu":"0.5"}`}},
		{"expose frontend on port 80", call{kubetools.NameExpose, `{"name":"frontend","port":80}`}},
		{"expose the frontend", call{kubetools.NameExpose, `{"name":"frontend"}`}},
		{"expose the frontend on port 80 target port 8080 as a nodeport", call{kubetools.NameExpose, `{"name":"frontend","port":80,"target_port":8080,"type":"NodePort"}`}},
		{"autoscale backend from 2 to 5 at 70% cpu", call{kubetools.NameAutoscale, `{"cpu_percent":70,"max_replicas":5,"min_replicas":2,"name":"backend"}`}},
		{"autoscale the backend between 2 and 5 at 70% CPU", call{kubetools.NameAutoscale, `{"cpu_percent":70,"max_replicas":5,"min_replicas":2,"name":"backend"}`}},
		{"autoscale backend min 2 max 5 cpu 70 percent", call{kubetools.NameAutoscale, `{"cpu_percent":70,"max_replicas":5,"min_replicas":2,"name":"backend"}`}},
		{"resize the database volume to 5Gi", call{kubetools.NameResizePVC, `{"name":"database","size":"5Gi"}`}},
		{"grow the db pvc to 10Gi", call{kubetools.NameResizePVC, `{"name":"db","size":"10Gi"}`}},
		{"expand pvc data-postgres-0 in todo to 20gi", call{kubetools.NameResizePVC, `{"name":"data-postgres-0","namespace":"todo","size":"20Gi"}`}},
		{"cordon minikube", call{nodetools.NameCordonNode, `{"name":"minikube"}`}},
		{"uncordon node minikube", call{nodetools.NameUncordonNode, `{"name":"minikube"}`}},
		{"drain minikube", call{nodetools.NameDrainNode, `{"name":"minikube"}`}},
		{"scale backend up by 100%", call{kubetools.NameScaleWorkload, `{"change_percent":100,"name":"backend"}`}},
		{"scale backend down by 50%", call{kubetools.NameScaleWorkload, `{"change_percent":-50,"name":"backend"}`}},
		{"scale the frontend up by fifty percent", call{kubetools.NameScaleWorkload, `{"change_percent":50,"name":"frontend"}`}},
		{"scale backend by -50%", call{kubetools.NameScaleWorkload, `{"change_percent":-50,"name":"backend"}`}},
		{"scale backend to 3", call{kubetools.NameScaleWorkload, `{"name":"backend","replicas":3}`}},
		{"set env LOG_LEVEL=debug on the backend", call{kubetools.NameSetEnv, `{"name":"backend","set":[{"name":"LOG_LEVEL","value":"debug"}]}`}},
		{"set env LOG_LEVEL=debug MODE=Fast on the backend in todo", call{kubetools.NameSetEnv, `{"name":"backend","namespace":"todo","set":[{"name":"LOG_LEVEL","value":"debug"},{"name":"MODE","value":"Fast"}]}`}},
		{"create configmap app-config with key=value", call{configtools.NameCreateConfigMap, `{"data":[{"key":"key","value":"value"}],"name":"app-config"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.request, func(t *testing.T) {
			t.Parallel()
			plan, err := p.Plan(tt.request)
			if err != nil {
				t.Fatalf("Plan(%q): %v", tt.request, err)
			}
			if len(plan.Calls) != 1 {
				t.Fatalf("Plan(%q) = %s, want one call", tt.request, plan)
			}
			if got := (call{plan.Calls[0].Tool, string(plan.Calls[0].Args)}); got != tt.want {
				t.Errorf("Plan(%q)\n got %v\nwant %v", tt.request, got, tt.want)
			}
			if !plan.Exact() || plan.Asks != "" {
				t.Errorf("Plan(%q): ignored %q, asks %q; want an exact command", tt.request, plan.Ignored, plan.Asks)
			}
		})
	}
}

func TestPlanChangesRefused(t *testing.T) {
	t.Parallel()
	p := planner.New(offlineRegistry(t))
	tests := []struct{ request, wantErr string }{
		{"scale the frontend up by 2", "needs the live replicas"},
		{"scale backend by 50%", "up or down by 50%"},
		{"scale backend to 50%", "is not a replica count"},
		{"scale backend up", "relative changes are not guessed"},
		{"give the backend 512MB memory", "not a Kubernetes quantity: say 512Mi (binary) or 512M (decimal)"},
		{"give the backend 512 memory", "has no unit"},
		{"give the backend 500m memory", "thousandths of a byte"},
		{"give the backend 500m cpu", "cpu request or cpu limit?"},
		{"give the backend 2Gi cpu limit", "cores"},
		{"give the backend 512Mi", "no known action"},
		{"set backend memory limit", "how much?"},
		{"set backend memory limit to 1Gi and memory limit to 2Gi", "given twice"},
		{"resize the database volume to 5", "5 what?"},
		{"resize the database volume", "to what size?"},
		{"grow the db volume to 5gb", "say 5Gi (binary) or 5G (decimal)"},
		{"autoscale backend from 2 to 5", "at what CPU target"},
		{"autoscale backend at 70% cpu", "between how many replicas"},
		{"autoscale backend from 5 to 2 at 70% cpu", "above the maximum"},
		{"expose frontend on port 99999", "from 1 to 65535"},
		{"set env on the backend", "which variable?"},
		{"set env LOG_LEVEL=debug A=1 on the backend and the frontend", "several possible workload names"},
		{"cordon", "which node?"},
		{"cordon minikube in todo", "nodes belong to no namespace"},
		{"drain pod minikube", "only nodes"},
		{"set backend image to a:1 b:2", "several images"},
		{"create configmap app-config", "with what data?"},
		{"never restart the backend", "negation"},
		{"don't scale backend to 0", "negation"},
		{"scale backend to 3 if it is failing", "cannot check conditions"},
		{"restart the backend unless it is healthy", "cannot check conditions"},
		{"scale backend to 3 and restart it", "more than one change"},
		{"set backend image to todo-backend:1.4 and scale it to 3 replicas", "more than one change"},
		{"give the backend 512Mi memory and cordon minikube", "several possible node names"},
		{"give the backend 512Mi memory and restart it", "more than one change"},
	}
	for _, tt := range tests {
		t.Run(tt.request, func(t *testing.T) {
			t.Parallel()
			plan, err := p.Plan(tt.request)
			if err == nil {
				t.Fatalf("Plan(%q) = %s, want an error containing %q", tt.request, plan, tt.wantErr)
			}
			var ue *planner.UnmappedError
			if !errors.As(err, &ue) || !tools.IsBadInput(err) {
				t.Errorf("Plan(%q) error is not an *UnmappedError: %v", tt.request, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Plan(%q) error = %v\nwant it to contain %q", tt.request, err, tt.wantErr)
			}
		})
	}
}

// questions name changes but ask about them: none may become a change.
var questions = []string{
	"why did the backend restart?",
	"why does the backend have 0 replicas?",
	"why did the upgrade fail?",
	"how do I scale the backend?",
	"should I restart the frontend?",
	"what would happen if I scale backend to 0?",
	"can you explain why the rollback happened?",
	"Why did you delete the pod?",
	"is it safe to drain minikube?",
	"how do I set the backend image to todo-backend:1.4?",
	"could I give the backend 512Mi memory?",
	"what if I delete pod backend-abc12",
	"why was the backend scaled down by 50%?",
	"should we roll back the backend?",
	"how would I uninstall release todo?",
	"explain the rollback of the backend",
	"do I need to restart the frontend?",
	"restart the frontend?",
	"scale backend to 0?",
	"tell me why the backend restarted",
	"why is the database volume full, should I resize it to 10Gi?",
	"what happens when I cordon minikube",
	"would it help to autoscale backend from 2 to 5 at 70% cpu?",
	"can we expose frontend on port 80?",
	"is the backend rolled out?",
	"hey, how can I undo the last upgrade of release todo",
	"What would scaling the backend to 10 replicas cost?",
	"did someone set env LOG_LEVEL=debug on the backend?",
	"show me how to restart the backend",
	"was the backend restarted after the image change to todo-backend:1.4?",
}

func TestQuestionsOnlyRead(t *testing.T) {
	t.Parallel()
	reg := offlineRegistry(t)
	p := planner.New(reg)
	for _, q := range questions {
		plan, err := p.Plan(q)
		if err != nil {
			t.Errorf("Plan(%q): %v (want a read-only plan)", q, err)
			continue
		}
		if plan.Asks == "" || len(plan.Calls) == 0 {
			t.Errorf("Plan(%q) = %s (asks %q), want it read as a question with reads", q, plan, plan.Asks)
		}
		for _, c := range plan.Calls {
			tool, err := reg.Lookup(c.Tool)
			if err != nil {
				t.Fatalf("Plan(%q) calls %s: %v", q, c.Tool, err)
			}
			if tool.Risk() != tools.Read {
				t.Errorf("Plan(%q) calls %s (risk %s): a question became a change", q, c.Tool, tool.Risk())
			}
		}
	}
	// The same with a registry of the in-memory tools and no diagnose:
	// errors are allowed, changes are not.
	small := kubeRegistry()
	ps := planner.New(small)
	for _, q := range questions {
		plan, err := ps.Plan(q)
		if err != nil {
			continue
		}
		for _, c := range plan.Calls {
			if tool, _ := small.Lookup(c.Tool); tool.Risk() != tools.Read {
				t.Errorf("Plan(%q) without diagnose calls %s (risk %s)", q, c.Tool, tool.Risk())
			}
		}
	}
}

func TestQuestionNoteSaysHowToAsk(t *testing.T) {
	t.Parallel()
	p := planner.New(offlineRegistry(t))
	plan, err := p.Plan("how do I scale the backend?")
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.String(); got != `get_resource {"kind":"deployment","name":"backend"}` {
		t.Errorf("plan = %s, want the backend described", got)
	}
	if !strings.Contains(plan.Note, "nothing was changed") || !strings.Contains(plan.Note, "scale backend to 3") {
		t.Errorf("note = %q, want how to ask for the change", plan.Note)
	}
}

func TestPlanIgnored(t *testing.T) {
	t.Parallel()
	p := planner.New(offlineRegistry(t))
	tests := []struct {
		request string
		want    []string
	}{
		{"scale backend to 3", nil},
		{"Could you please scale the backend deployment to five replicas in todo?", nil},
		{"scale deployment/todo-chatbot-backend to 2 -n todo", nil},
		{"restart the failing backend", []string{"failing"}},
		{"restart the crashing backend with 2Gi", []string{"crashing", "2Gi"}},
		{"restart backend 3 times", []string{"3", "times"}},
		{"roll back backend to revision 2", nil},
		{"set backend image to todo-backend:1.4 quickly please", nil},
		{"drain minikube with --force", []string{"--force"}},
	}
	for _, tt := range tests {
		plan, err := p.Plan(tt.request)
		if err != nil {
			t.Errorf("Plan(%q): %v", tt.request, err)
			continue
		}
		if !slices.Equal(plan.Ignored, tt.want) {
			t.Errorf("Plan(%q).Ignored = %q, want %q", tt.request, plan.Ignored, tt.want)
		}
	}
}

func TestHelpListsNewPhrasings(t *testing.T) {
	t.Parallel()
	help := planner.New(offlineRegistry(t)).Help()
	for _, want := range []string{"set backend image to todo-backend:1.4",
		"give backend 512Mi memory", "set backend cpu limit to 500m", "expose frontend on port 80", "autoscale backend from 2 to 5 at 70% cpu", "resize the database volume to 5Gi",
		"cordon NODE", "drain NODE", "scale backend up by 50%", "set env LOG_LEVEL=debug on the backend", "why"} {
		if !strings.Contains(help, want) {
			t.Errorf("Help lacks %q:\n%s", want, help)
		}
	}
}

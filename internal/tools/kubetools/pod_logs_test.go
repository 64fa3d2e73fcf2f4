package kubetools

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestPodLogs(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "todo-worker", replicas: 2})

	// By the workload's short name: one of its pods is read, the others named.
	res := resultAs[LogsResult](t, e.mustCall(t, NamePodLogs, map[string]any{"name": "worker", "tail": 2000}))
	if res.Workload != "deployment/todo-worker" || !strings.HasPrefix(res.Pod, "todo-worker-") || len(res.OtherPods) != 1 || res.Container != "app" {
		t.Errorf("result = %+v", res)
	}
	if res.Log == "" || len(res.Log) > maxLogBytes || res.Lines == 0 {
		t.Errorf("log = %d bytes, %d lines; want some, at most %d bytes", len(res.Log), res.Lines, maxLogBytes)
	}
	one := resultAs[LogsResult](t, e.mustCall(t, NamePodLogs, map[string]any{"name": res.Pod, "tail": 1}))
	if one.Lines > 1 || one.Workload != "" {
		t.Errorf("tail 1 gave %d lines (%q), workload %q", one.Lines, one.Log, one.Workload)
	}

	// Previous logs of a container that never restarted: a clear error.
	rec := e.call(t, NamePodLogs, map[string]any{"name": res.Pod, "previous": true})
	if rec.Err() == nil || !strings.Contains(rec.Err().Error(), "previous") {
		t.Errorf("previous logs error = %v, want one explaining there is no previous instance", rec.Err())
	}
}

func TestPodLogsNeedsContainerWhenAmbiguous(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1, containers: []corev1.Container{
		{Name: "app", Image: "registry.example/web:1"}, {Name: "proxy", Image: "registry.example/envoy:1"},
	}})
	rec := e.call(t, NamePodLogs, map[string]any{"name": "web"})
	if err := rec.Err(); !errors.Is(err, tools.ErrAmbiguous) || !strings.Contains(err.Error(), "app, proxy") {
		t.Fatalf("error = %v, want ErrAmbiguous listing app, proxy", err)
	}
	res := resultAs[LogsResult](t, e.mustCall(t, NamePodLogs, map[string]any{"name": "web", "container": "proxy"}))
	if res.Container != "proxy" {
		t.Errorf("container = %q", res.Container)
	}
}

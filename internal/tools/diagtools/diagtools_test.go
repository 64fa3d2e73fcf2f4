package diagtools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
)

func TestToolsDeclared(t *testing.T) {
	t.Parallel()
	reg := tools.NewRegistry(New(&kube.Clients{})...)
	want := map[string][]string{NameDiagnose: nil, NameExplain: {"name"}}
	if got := reg.Names(); !slices.Equal(got, []string{NameDiagnose, NameExplain}) {
		t.Fatalf("registry has %v", got)
	}
	for name, required := range want {
		tool, _ := reg.Lookup(name)
		if tool.Risk() != tools.Read || tool.Description() == "" {
			t.Errorf("%s: risk %v, description %q", name, tool.Risk(), tool.Description())
		}
		if got := slices.Sorted(slices.Values(tool.Schema().Required)); !slices.Equal(got, required) {
			t.Errorf("%s required = %v, want %v", name, got, required)
		}
		for prop, def := range tool.Schema().Properties {
			if def.Description == "" {
				t.Errorf("%s: argument %q has no description", name, prop)
			}
		}
	}
}

func TestArgsInvalid(t *testing.T) {
	t.Parallel()
	gate := &tools.Gate{Registry: tools.NewRegistry(New(&kube.Clients{})...)}
	tests := []struct{ tool, args string }{
		{NameDiagnose, `{"namespace":"todo","all_namespaces":true}`},
		{NameDiagnose, `{"kinds":["Podz"]}`},
		{NameDiagnose, `{"selector":"app in"}`},
		{NameDiagnose, `{"namespace":"Bad_NS"}`},
		{NameDiagnose, `{"unknown":1}`},
		{NameExplain, `{}`},
		{NameExplain, `{"name":"x","kind":"service"}`},
	}
	for _, tc := range tests {
		rec := gate.Call(context.Background(), tc.tool, json.RawMessage(tc.args))
		if !errors.Is(rec.Err(), tools.ErrInvalidArgs) {
			t.Errorf("%s %s: error %v, want invalid arguments", tc.tool, tc.args, rec.Err())
		}
	}
}

// TestToolsOnCluster runs both tools through the gate, as the agent and the
// planner do: results are capped and carry no Secret values.
func TestToolsOnCluster(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	ctx := context.Background()
	c, err := kube.NewClients(env.Getter())
	if err != nil {
		t.Fatal(err)
	}
	const secret = "sup3r-s3cret-value"
	if _, err := env.Client.CoreV1().Secrets(env.Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db"}, StringData: map[string]string{"password": secret}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.SetPodLogs(t, "todo-backend", nil, []string{"using password " + secret, "fatal: cannot reach db"})
	zero := int64(0)
	mk := func(name string, labels map[string]string) {
		_, err := env.Client.CoreV1().Pods(env.Namespace).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec:       corev1.PodSpec{TerminationGracePeriodSeconds: &zero, Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	mk("todo-backend", map[string]string{"sim.opsagent.dev/state": "CrashLoopBackOff", "app": "backend"})
	for i := range 24 {
		mk(fmt.Sprintf("batch-%02d", i), map[string]string{"sim.opsagent.dev/state": "ImagePullBackOff"})
	}
	gate := &tools.Gate{Registry: tools.NewRegistry(New(c)...)}

	var rep *diagnose.Report
	deadline := time.Now().Add(45 * time.Second)
	for {
		rec := gate.Call(ctx, NameDiagnose, json.RawMessage(`{"namespace":"`+env.Namespace+`"}`))
		if rec.Err() != nil {
			t.Fatal(rec.Err())
		}
		rep = rec.Result.(*diagnose.Report)
		if rep.Summary.Findings == 25 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want 25 findings, got %d", rep.Summary.Findings)
		}
		time.Sleep(500 * time.Millisecond)
	}
	kept := 0
	for _, g := range rep.Groups {
		kept += len(g.Findings)
	}
	if kept != MaxFindings || rep.Summary.Omitted != 25-MaxFindings {
		t.Errorf("kept %d findings, omitted %d; want %d and %d", kept, rep.Summary.Omitted, MaxFindings, 25-MaxFindings)
	}

	rec := gate.Call(ctx, NameExplain, json.RawMessage(`{"name":"backend","namespace":"`+env.Namespace+`"}`))
	if rec.Err() != nil {
		t.Fatal(rec.Err())
	}
	ex := rec.Result.(*diagnose.ExplainReport)
	if ex.Target.Name != "todo-backend" || ex.Healthy || len(ex.Fixes) == 0 {
		t.Fatalf("explain backend: target %s healthy %t", ex.Target, ex.Healthy)
	}
	out, _ := json.Marshal(rec)
	if strings.Contains(string(out), secret) {
		t.Errorf("a Secret value is in the tool result: %s", out)
	}
	if len(ex.Logs) == 1 && ex.Logs[0].Error == "" {
		if !strings.Contains(strings.Join(ex.Logs[0].Lines, "\n"), "using password [REDACTED]") {
			t.Errorf("log lines = %q, want the value redacted", ex.Logs[0].Lines)
		}
	}

	rec = gate.Call(ctx, NameExplain, json.RawMessage(`{"name":"nothing-here","namespace":"`+env.Namespace+`"}`))
	if !errors.Is(rec.Err(), tools.ErrNotFound) || !tools.IsBadInput(rec.Err()) {
		t.Errorf("unknown name: error %v, want not found", rec.Err())
	}
	// The planner reaching these tools from plain questions is tested in
	// internal/planner and, on the sandbox, in internal/agent (fallback).
}

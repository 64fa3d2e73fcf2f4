package agent_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/agent/agenttest"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/planner"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// TestCanarySecretNeverReachesTheModel puts a Secret's value into a pod's
// logs, a ConfigMap and an annotation, lets the (fake) model read all three
// through the real tools, and checks that no request body carries the value.
func TestCanarySecretNeverReachesTheModel(t *testing.T) {
	env := testcluster.New(t)
	ctx := context.Background()
	const canary = "opsagent-canary-4f9d2b7e"
	b64 := base64.StdEncoding.EncodeToString([]byte(canary))

	mustCreate(t, func() error {
		_, err := env.Client.CoreV1().Secrets(env.Namespace).Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "db"},
			Data:       map[string][]byte{"password": []byte(canary)},
		}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := env.Client.CoreV1().ConfigMaps(env.Namespace).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "app-config"},
			Data:       map[string]string{"DATABASE_URL": "postgres://app:" + canary + "@db/app", "ENCODED": b64},
		}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := env.Client.CoreV1().Pods(env.Namespace).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "leaky", Annotations: map[string]string{"debug/password": canary}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: "registry.example/app:1",
				Env: []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{
					SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"},
				}}},
			}}},
		}, metav1.CreateOptions{})
		return err
	})
	env.SetPodLogs(t, "leaky", []string{"connecting with password " + canary, "auth header " + b64}, nil)
	waitPodRunning(t, env, "leaky")

	clients, err := kube.NewClients(env.Getter())
	if err != nil {
		t.Fatal(err)
	}
	reg := tools.NewRegistry(kubetools.New(clients)...)
	m := agenttest.NewFakeModel(t,
		agenttest.Calls(
			agenttest.Call("c1", "pod_logs", `{"name":"leaky"}`),
			agenttest.Call("c2", "get_resource", `{"kind":"configmap","name":"app-config"}`),
			agenttest.Call("c3", "get_resource", `{"kind":"pod","name":"leaky"}`),
		),
		agenttest.Answer("done"),
	)
	a, err := agent.New(agent.Config{
		Gate:    &tools.Gate{Registry: reg, Approver: &tools.Policy{}},
		Planner: planner.New(reg), Model: m.Client(), ModelName: "fake",
		Redactor: agent.NewRedactor(env.Client, nil),
		Prompt:   agent.PromptData{Context: "test", Namespace: env.Namespace},
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := a.Run(ctx, "why does leaky fail to connect?")
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range run.Actions {
		if rec.Err() != nil {
			t.Fatalf("%s failed: %v", rec.Tool, rec.Err())
		}
	}
	reqs := m.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d model requests, want 2", len(reqs))
	}
	for i, req := range reqs {
		for _, leak := range []string{canary, b64} {
			if strings.Contains(req.Body, leak) {
				t.Errorf("request %d to the model contains the secret value %q", i, leak)
			}
		}
	}
	msgs := reqs[1].ToolMessages()
	for i, msg := range msgs {
		if !strings.Contains(msg, agent.Redacted) {
			t.Errorf("tool message %d shows no redaction, so the canary never reached the tools' output: %.300s", i, msg)
		}
	}
}

func mustCreate(t *testing.T, create func() error) {
	t.Helper()
	if err := create(); err != nil {
		t.Fatal(err)
	}
}

func waitPodRunning(t *testing.T, env *testcluster.Env, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := env.Client.CoreV1().Pods(env.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s not Running after 30s (err %v)", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

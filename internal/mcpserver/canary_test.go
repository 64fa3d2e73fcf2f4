package mcpserver_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// TestCanaryNeverInResponses plants a Secret value where the read tools
// show it — the Secret itself, a pod's env and annotation, the pod's logs
// — and calls every read tool that could show it through `opsagent mcp`:
// the value never appears in any response, in text or structured content.
func TestCanaryNeverInResponses(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	const canary = "mcp-canary-8d41f0c2b7"
	b64 := base64.StdEncoding.EncodeToString([]byte(canary))
	ctx := context.Background()
	if _, err := env.Client.CoreV1().Secrets(env.Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Data:       map[string][]byte{"password": []byte(canary)},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Client.CoreV1().Pods(env.Namespace).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "leaky",
			Labels:      map[string]string{"sim.opsagent.dev/state": "CrashLoopBackOff"},
			Annotations: map[string]string{"note": "db is " + canary}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.example/app:1",
			Env: []corev1.EnvVar{{Name: "DB", ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}}},
		}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	logs := []string{"connecting with " + canary, "encoded " + b64, "FATAL: authentication failed"}
	env.SetPodLogs(t, "leaky", logs, logs)
	env.WaitPodRunning(t, "leaky")

	s := startStdio(t, env, nil)
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"get_resource", map[string]any{"kind": "secret", "name": "db"}},
		{"get_resource", map[string]any{"kind": "pod", "name": "leaky"}},
		{"list_resources", map[string]any{"kind": "secrets"}},
		{"list_resources", map[string]any{"kind": "pods"}},
		{"pod_logs", map[string]any{"name": "leaky"}},
		{"pod_logs", map[string]any{"name": "leaky", "previous": true}},
		{"list_events", map[string]any{}},
		{"diagnose", map[string]any{}},
		{"explain", map[string]any{"name": "leaky"}},
	}
	var redacted bool
	for _, c := range calls {
		res := call(t, s.cs, c.tool, c.args)
		out := wire(t, res)
		for _, leak := range []string{canary, b64} {
			if strings.Contains(out, leak) {
				t.Errorf("%s %v: the response contains the canary %q: %.300s", c.tool, c.args, leak, out)
			}
		}
		if c.tool == "pod_logs" && !res.IsError && strings.Contains(out, redact.Redacted) {
			redacted = true
		}
	}
	// The logs did carry the value: without redaction the test would see it.
	if !redacted {
		t.Fatal("pod_logs showed no redaction: the canary never reached a tool, so this test proves nothing")
	}
}

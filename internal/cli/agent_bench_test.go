package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/testcluster"
)

// BenchmarkScaleRequest measures the wall time of
// `opsagent "scale backend to N" --yes` (no AI key: the planner path, with
// kubeconfig loading, name resolution, preview, approval, the write, the wait
// for ready replicas and the audit line) against the sandbox, alternating
// between 2 and 3 replicas. The baseline in the same run is the bare
// client-go equivalent a script would do: update the scale subresource and
// poll until the ready replicas match.
func BenchmarkScaleRequest(b *testing.B) {
	for _, k := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPSAGENT_MODEL", "OPSAGENT_CONFIG"} {
		b.Setenv(k, "")
	}
	env := testcluster.New(b)
	ctx := context.Background()
	labels := map[string]string{"app": "backend"}
	deps := env.Client.AppsV1().Deployments(env.Namespace)
	_, err := deps.Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "todo-chatbot-backend"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "backend:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	waitFor := func(want int32) {
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			d, err := deps.Get(ctx, "todo-chatbot-backend", metav1.GetOptions{})
			if err == nil && d.Status.ReadyReplicas == want && d.Status.Replicas == want && d.Status.ObservedGeneration == d.Generation {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.Fatalf("not %d ready replicas", want)
	}
	waitFor(2)
	audit := filepath.Join(b.TempDir(), "audit.log")

	b.Run("opsagent", func(b *testing.B) {
		for i := range b.N {
			want := 3 - i%2
			var out, errOut bytes.Buffer
			cmd := NewRootCmd(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			cmd.SetArgs([]string{fmt.Sprintf("scale backend to %d", want), "--yes",
				"--kubeconfig", env.Kubeconfig, "-n", env.Namespace, "--audit-log", audit})
			if code := exitCode(cmd.ExecuteContext(ctx), &errOut); code != 0 {
				b.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
			}
		}
		b.StopTimer()
		waitFor(int32(3 - (b.N-1)%2))
		// Leave the deployment at 2 for the baseline.
		if (b.N-1)%2 == 0 {
			s, _ := deps.GetScale(ctx, "todo-chatbot-backend", metav1.GetOptions{})
			s.Spec.Replicas = 2
			_, _ = deps.UpdateScale(ctx, "todo-chatbot-backend", s, metav1.UpdateOptions{})
			waitFor(2)
		}
	})
	b.Run("client-go-baseline", func(b *testing.B) {
		for i := range b.N {
			want := int32(3 - i%2)
			s, err := deps.GetScale(ctx, "todo-chatbot-backend", metav1.GetOptions{})
			if err != nil {
				b.Fatal(err)
			}
			s.Spec.Replicas = want
			if _, err := deps.UpdateScale(ctx, "todo-chatbot-backend", s, metav1.UpdateOptions{}); err != nil {
				b.Fatal(err)
			}
			waitFor(want)
		}
	})
}

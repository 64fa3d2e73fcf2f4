package sandbox_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/opsagent/opsagent/internal/sandbox"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// The metrics API reports what a pod's annotations simulate, and follows a
// change of them; nodes report usage too (kubectl top nodes).
func TestSimulatedUsage(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	env.RequireMetricsAPI(t)
	mc, err := metricsclient.NewForConfig(env.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "busy", Annotations: map[string]string{
			sandbox.SimCPUAnnotation: "250m", sandbox.SimMemoryAnnotation: "300Mi"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
	}
	if _, err := env.Client.CoreV1().Pods(env.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	usage := func(cpu, mem string) func() (bool, string) {
		return func() (bool, string) {
			m, err := mc.MetricsV1beta1().PodMetricses(env.Namespace).Get(ctx, "busy", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if len(m.Containers) != 1 {
				return false, fmt.Sprintf("%d containers", len(m.Containers))
			}
			u := m.Containers[0].Usage
			got := fmt.Sprintf("%dm %dMi", u.Cpu().MilliValue(), u.Memory().Value()>>20)
			// CPU is a rate between two scrapes: within 2% of the figure.
			want := resource.MustParse(cpu)
			wantCPU := want.MilliValue()
			d := u.Cpu().MilliValue() - wantCPU
			return d*50 <= wantCPU && -d*50 <= wantCPU && u.Memory().Cmp(resource.MustParse(mem)) == 0, got
		}
	}
	// Two scrapes, 10 s apart, make the first CPU rate.
	eventually(t, 90*time.Second, "usage 250m / 300Mi", usage("250m", "300Mi"))

	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"1","%s":"100Mi"}}}`, sandbox.SimCPUAnnotation, sandbox.SimMemoryAnnotation)
	if _, err := env.Client.CoreV1().Pods(env.Namespace).Patch(ctx, "busy", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "usage 1 core / 100Mi after the annotations change", usage("1", "100Mi"))

	nodes, err := mc.MetricsV1beta1().NodeMetricses().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("node metrics: %v", err)
	}
	if len(nodes.Items) == 0 {
		t.Fatal("no node reports usage")
	}
}

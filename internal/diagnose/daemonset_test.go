package diagnose

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDaemonSetAnalyzer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		labels  map[string]string
		healthy bool
	}{
		{name: "unavailable because its pods crash", labels: map[string]string{simLabel: "CrashLoopBackOff"}},
		{name: "healthy", healthy: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			labels := map[string]string{"app": "agent"}
			for k, v := range tc.labels {
				labels[k] = v
			}
			ds := &appsv1.DaemonSet{
				ObjectMeta: metav1.ObjectMeta{Name: "agent"},
				Spec: appsv1.DaemonSetSpec{
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec(ctr("agent", "fluent-bit"))},
				},
			}
			if _, err := e.Client.AppsV1().DaemonSets(e.Namespace).Create(context.Background(), ds, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			o := Options{Kinds: []string{"DaemonSet"}}
			if tc.healthy {
				e.waitFor(t, o, "the DaemonSet to be available and healthy", func(r *Report) bool {
					got, err := e.Client.AppsV1().DaemonSets(e.Namespace).Get(context.Background(), "agent", metav1.GetOptions{})
					return err == nil && got.Status.DesiredNumberScheduled > 0 && got.Status.NumberAvailable == got.Status.DesiredNumberScheduled && r.Summary.Healthy
				})
				return
			}
			f, _ := e.waitRule(t, o, RuleDaemonSetUnavailable, "agent")
			if f.Severity != Critical {
				t.Errorf("severity = %s, want critical", f.Severity)
			}
			mustContain(t, "finding", allText(f), "pods available", "failing", "kubectl rollout restart daemonset/agent")
		})
	}
}

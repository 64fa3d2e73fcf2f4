package diagnose

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func statefulSetObj(name, service string, labels map[string]string) *appsv1.StatefulSet {
	podLabels := map[string]string{"app": name}
	for k, v := range labels {
		podLabels[k] = v
	}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptrTo(int32(1)),
			ServiceName: service,
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template:    corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: podSpec(ctr("db", "postgres"))},
		},
	}
}

func TestStatefulSetAnalyzer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sts      *appsv1.StatefulSet
		rule     string
		severity Severity
		want     []string
	}{
		{"unavailable because its pod crashes", statefulSetObj("db", "", map[string]string{simLabel: "CrashLoopBackOff"}),
			RuleStatefulSetUnavailable, Critical, []string{"0/1 replicas available", "1 pod of 1 failing", "OrderedReady"}},
		{"governing Service missing", statefulSetObj("cache", "cache-headless", nil),
			RuleStatefulSetServiceMissing, Warning, []string{`Service "cache-headless" does not exist`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			if _, err := e.Client.AppsV1().StatefulSets(e.Namespace).Create(context.Background(), tc.sts, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			f, rep := e.waitRule(t, Options{Kinds: []string{"StatefulSet", "Pod"}}, tc.rule, tc.sts.Name)
			if f.Severity != tc.severity {
				t.Errorf("severity = %s, want %s", f.Severity, tc.severity)
			}
			mustContain(t, "finding", allText(f), tc.want...)
			if tc.rule == RuleStatefulSetUnavailable {
				pf, ok := findingFor(rep, RulePodCrashLoopBackOff, tc.sts.Name+"-0")
				if !ok || len(pf.Owners) == 0 || pf.Owners[0].Name != tc.sts.Name {
					t.Errorf("pod finding missing or not owned by the StatefulSet:\n%s", reportText(rep))
				}
			}
		})
	}
}

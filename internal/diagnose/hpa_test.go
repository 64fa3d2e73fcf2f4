package diagnose

import (
	"context"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func hpaObj(target string) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target},
			MinReplicas:    ptrTo(int32(1)), MaxReplicas: 5,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: "cpu", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptrTo(int32(70))}}}},
		},
	}
}

func TestHPAAnalyzer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		target   string
		rule     string
		severity Severity
		want     []string
		wantFix  string
	}{
		{name: "target missing", target: "wbe", rule: RuleHPATargetMissing, severity: Critical, want: []string{"scale target deployment/wbe does not exist"}},
		{name: "pods without requests", target: "web", rule: RuleHPAPodsWithoutRequests, severity: Warning,
			want: []string{"scales on cpu utilization but container app of deployment/web has no cpu request"}, wantFix: "kubectl set resources deployment/web -n "},
		// The sandbox has no metrics-server: the HPA controller reports it.
		{name: "metrics unavailable", target: "web", rule: RuleHPAMetricsUnavailable, severity: Warning,
			want: []string{"cannot read its metrics", "ScalingActive=False"}, wantFix: "kubectl get apiservice v1beta1.metrics.k8s.io"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			e.createDeployment(t, deploymentObj("web", 1, nil, podSpec(ctr("app", "busybox"))))
			if _, err := e.Client.AutoscalingV2().HorizontalPodAutoscalers(e.Namespace).Create(context.Background(), hpaObj(tc.target), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			f, _ := e.waitRule(t, Options{Kinds: []string{"HorizontalPodAutoscaler"}}, tc.rule, "web", tc.want...)
			if f.Severity != tc.severity {
				t.Errorf("severity = %s, want %s", f.Severity, tc.severity)
			}
			mustContain(t, "finding", allText(f), tc.want...)
			if tc.wantFix != "" && !hasFix(f, tc.wantFix) {
				t.Errorf("no fix with %q: %+v", tc.wantFix, f.Fixes)
			}
		})
	}
}

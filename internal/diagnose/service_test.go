package diagnose

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestServiceAnalyzer(t *testing.T) {
	t.Parallel()
	web := func() corev1.Container {
		c := ctr("web", "nginx")
		c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
		return c
	}
	svc := func(selector map[string]string, target intstr.IntOrString) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "backend"},
			Spec:       corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{{Name: "web", Port: 80, TargetPort: target}}},
		}
	}
	tests := []struct {
		name     string
		svc      *corev1.Service
		rule     string // "" means no finding
		severity Severity
		want     []string
		wantFix  string
	}{
		{name: "selector typo names the nearly matching pod",
			svc:  svc(map[string]string{"app": "backend", "tier": "api"}, intstr.FromString("http")),
			rule: RuleServiceNoEndpoints, severity: Critical,
			want:    []string{"matches no pod", "pod backend-1 nearly matches: it has app=backnd, the Service wants app=backend"},
			wantFix: `kubectl patch service backend -n `},
		{name: "named targetPort that no container has",
			svc:  svc(map[string]string{"app": "backnd"}, intstr.FromString("web")),
			rule: RuleServiceTargetPort, severity: Critical,
			want:    []string{`targetPort "web" is not the name of any container port`, "http:8080/TCP"},
			wantFix: `"path":"/spec/ports/0/targetPort","value":"http"`},
		{name: "numeric targetPort that no container declares",
			svc:  svc(map[string]string{"app": "backnd"}, intstr.FromInt(9090)),
			rule: RuleServiceTargetPort, severity: Warning,
			want: []string{"targetPort 9090 is not a port any container"}},
		{name: "healthy by name", svc: svc(map[string]string{"app": "backnd"}, intstr.FromString("http"))},
		{name: "healthy by number", svc: svc(map[string]string{"app": "backnd"}, intstr.FromInt(8080))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			e.createPod(t, "backend-1", map[string]string{"app": "backnd", "tier": "api"}, podSpec(web()))
			e.createPod(t, "frontend-1", map[string]string{"app": "frontend", "tier": "web"}, podSpec(ctr("web", "nginx")))
			if _, err := e.Client.CoreV1().Services(e.Namespace).Create(context.Background(), tc.svc, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			o := Options{Kinds: []string{"Service"}}
			if tc.rule == "" {
				rep := e.diagnose(t, o)
				if !rep.Summary.Healthy || rep.Summary.Checked["Service"] != 1 {
					t.Fatalf("healthy Service reported:\n%s", reportText(rep))
				}
				return
			}
			f, _ := e.waitRule(t, o, tc.rule, "backend")
			if f.Severity != tc.severity {
				t.Errorf("severity = %s, want %s", f.Severity, tc.severity)
			}
			text := allText(f)
			mustContain(t, "finding", text, tc.want...)
			if tc.wantFix != "" && !hasFix(f, tc.wantFix) {
				t.Errorf("no fix with %q: %+v", tc.wantFix, f.Fixes)
			}
			if tc.rule == RuleServiceNoEndpoints {
				if !hasFix(f, `'{"spec":{"selector":{"app":"backnd"}}}'`) {
					t.Errorf("fix does not set the pods' label value: %+v", f.Fixes)
				}
				if contains := allText(f); len(contains) > 0 && containsAny(contains, "frontend-1") {
					t.Errorf("an unrelated pod is named as nearly matching:\n%s", text)
				}
			}
		})
	}
}

func TestNearPods(t *testing.T) {
	t.Parallel()
	pod := func(name string, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	}
	tests := []struct {
		name     string
		selector map[string]string
		pods     []*corev1.Pod
		want     []string
	}{
		{"value typo", map[string]string{"app": "backend"}, []*corev1.Pod{pod("a", map[string]string{"app": "backnd"})}, []string{"a"}},
		{"different word is not near", map[string]string{"app": "backend"}, []*corev1.Pod{pod("a", map[string]string{"app": "frontend"})}, nil},
		{"key renamed", map[string]string{"app": "backend"}, []*corev1.Pod{pod("a", map[string]string{"app.kubernetes.io/name": "backend"})}, []string{"a"}},
		{"one of two labels missing", map[string]string{"app": "backend", "tier": "api"}, []*corev1.Pod{pod("a", map[string]string{"app": "backend"})}, []string{"a"}},
		{"two labels off is not near", map[string]string{"app": "backend", "tier": "api"}, []*corev1.Pod{pod("a", map[string]string{"app": "web", "tier": "ui"})}, nil},
		{"versioned value", map[string]string{"app": "backend"}, []*corev1.Pod{pod("a", map[string]string{"app": "backend-v2"})}, []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, n := range nearPods(tc.selector, tc.pods) {
				got = append(got, n.pod.Name)
			}
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Errorf("nearPods = %v, want %v", got, tc.want)
			}
		})
	}
}

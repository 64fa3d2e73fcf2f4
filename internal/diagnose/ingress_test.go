package diagnose

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ingressObj(class *string, service string, port networkingv1.ServiceBackendPort, tlsSecret string) *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: networkingv1.IngressSpec{
			IngressClassName: class,
			Rules: []networkingv1.IngressRule{{Host: "todo.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: service, Port: port}}}},
			}}}},
		},
	}
	if tlsSecret != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"todo.example.com"}, SecretName: tlsSecret}}
	}
	return ing
}

func TestIngressAnalyzer(t *testing.T) {
	t.Parallel()
	nginx, missing := ptrTo("nginx"), ptrTo("traefik")
	http := networkingv1.ServiceBackendPort{Name: "http"}
	tests := []struct {
		name     string
		ing      *networkingv1.Ingress
		rule     string // "" means healthy
		severity Severity
		want     []string
		wantFix  string
	}{
		{name: "missing IngressClass", ing: ingressObj(missing, "frontend", http, ""), rule: RuleIngressClassMissing, severity: Critical,
			want: []string{`IngressClass "traefik" does not exist`, "nginx"}, wantFix: `{"spec":{"ingressClassName":"nginx"}}`},
		{name: "missing backend Service", ing: ingressObj(nginx, "frontnd", http, ""), rule: RuleIngressBackendMissing, severity: Critical,
			want: []string{`backend Service "frontnd" does not exist`, "similar name exists: frontend"}},
		{name: "missing backend port", ing: ingressObj(nginx, "frontend", networkingv1.ServiceBackendPort{Number: 8080}, ""), rule: RuleIngressBackendPort, severity: Critical,
			want: []string{`has no port 8080`, "http (80)"}},
		{name: "missing TLS Secret", ing: ingressObj(nginx, "frontend", http, "todo-tls"), rule: RuleIngressTLSSecretMissing, severity: Critical,
			want: []string{`TLS Secret "todo-tls" does not exist`}, wantFix: "kubectl create secret tls todo-tls"},
		{name: "healthy, default class", ing: ingressObj(nil, "frontend", networkingv1.ServiceBackendPort{Number: 80}, "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			ctx := context.Background()
			_, err := e.Client.CoreV1().Services(e.Namespace).Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "frontend"},
				Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "frontend"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Client.NetworkingV1().Ingresses(e.Namespace).Create(ctx, tc.ing, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			rep := e.diagnose(t, Options{Kinds: []string{"Ingress"}})
			if tc.rule == "" {
				if !rep.Summary.Healthy || rep.Summary.Checked["Ingress"] != 1 {
					t.Fatalf("healthy Ingress reported:\n%s", reportText(rep))
				}
				return
			}
			f, ok := findingFor(rep, tc.rule, "web")
			if !ok {
				t.Fatalf("no %s finding:\n%s", tc.rule, reportText(rep))
			}
			if f.Severity != tc.severity {
				t.Errorf("severity = %s, want %s", f.Severity, tc.severity)
			}
			mustContain(t, "finding", allText(f), tc.want...)
			if tc.wantFix != "" && !hasFix(f, tc.wantFix) {
				t.Errorf("no fix with %q: %+v", tc.wantFix, f.Fixes)
			}
			if rep.Summary.Findings != 1 {
				t.Errorf("want exactly one finding:\n%s", reportText(rep))
			}
		})
	}
}

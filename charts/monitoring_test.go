package charts_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// monitoringGroup is the Prometheus Operator's API group.
const monitoringGroup = "monitoring.coreos.com"

// alertRule is one rule of the rendered PrometheusRule.
type alertRule struct {
	Alert, Expr, For string
	Labels           map[string]string
}

func monitoringObject(t *testing.T, r *rendered, kind string) *unstructured.Unstructured {
	t.Helper()
	for _, u := range all[*unstructured.Unstructured](r.objects) {
		if u.GetKind() == kind {
			return u
		}
	}
	return nil
}

func alertRules(t *testing.T, rule *unstructured.Unstructured) map[string]alertRule {
	t.Helper()
	groups, _, err := unstructured.NestedSlice(rule.Object, "spec", "groups")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]alertRule{}
	for _, g := range groups {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rules {
			m := r.(map[string]any)
			ar := alertRule{Labels: map[string]string{}}
			ar.Alert, _, _ = unstructured.NestedString(m, "alert")
			ar.Expr, _, _ = unstructured.NestedString(m, "expr")
			ar.For, _, _ = unstructured.NestedString(m, "for")
			labels, _, _ := unstructured.NestedStringMap(m, "labels")
			for k, v := range labels {
				ar.Labels[k] = v
			}
			out[ar.Alert] = ar
		}
	}
	return out
}

func TestMonitoringIsOffByDefault(t *testing.T) {
	t.Parallel()
	r := mustRender(t, release, nil)
	if u := all[*unstructured.Unstructured](r.objects); len(u) != 0 {
		t.Fatalf("defaults must render no Prometheus Operator objects (the CRDs may be missing), got %d", len(u))
	}
}

func TestServiceMonitorSelectsTheBackendService(t *testing.T) {
	t.Parallel()
	r := mustRender(t, release, parseSet(t, "monitoring.serviceMonitor.enabled=true", "monitoring.serviceMonitor.labels.release=kps"))
	sm := monitoringObject(t, r, "ServiceMonitor")
	if sm == nil {
		t.Fatal("no ServiceMonitor rendered")
	}
	if sm.GetLabels()["release"] != "kps" {
		t.Errorf("ServiceMonitor labels %v lack the user's release=kps (Prometheus selects on it)", sm.GetLabels())
	}
	svc := find[*corev1.Service](r.objects, backend)
	selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	for k, v := range selector {
		if svc.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, which the backend Service lacks (labels %v)", k, v, svc.Labels)
		}
	}
	// The selector must not also match the frontend Service.
	if fe := find[*corev1.Service](r.objects, frontend); matches(selector, fe.Labels) {
		t.Errorf("ServiceMonitor selector %v also matches the frontend Service", selector)
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(endpoints) != 1 {
		t.Fatalf("want one endpoint, got %v", endpoints)
	}
	port := endpoints[0].(map[string]any)["port"]
	if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == port }) {
		t.Errorf("endpoint port %q is not a named port of the backend Service", port)
	}
	ns, _, _ := unstructured.NestedStringSlice(sm.Object, "spec", "namespaceSelector", "matchNames")
	if !slices.Equal(ns, []string{"todo"}) {
		t.Errorf("namespaceSelector = %v, want the release namespace", ns)
	}
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// selectorValue pulls label="value" (or =~) out of a PromQL expression.
func selectorValues(expr, label string) []string {
	re := regexp.MustCompile(label + `=~?"([^"]*)"`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(expr, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestPrometheusRuleAlertsMatchTheRenderedObjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		sets       []string
		wantAlerts []string
		claim      string
	}{
		{
			name:       "pods and database volume",
			sets:       []string{"monitoring.prometheusRule.enabled=true"},
			wantAlerts: []string{"TodoChatbotPodRestarting", "TodoChatbotPodNotReady", "TodoChatbotDatabaseVolumeFilling"},
			claim:      database,
		},
		{
			name:       "existing claim",
			sets:       []string{"monitoring.prometheusRule.enabled=true", "postgresql.persistence.existingClaim=old-data"},
			wantAlerts: []string{"TodoChatbotPodRestarting", "TodoChatbotPodNotReady", "TodoChatbotDatabaseVolumeFilling"},
			claim:      "old-data",
		},
		{
			name:       "no volume alert without persistence",
			sets:       []string{"monitoring.prometheusRule.enabled=true", "postgresql.persistence.enabled=false"},
			wantAlerts: []string{"TodoChatbotPodRestarting", "TodoChatbotPodNotReady"},
		},
		{
			name: "backend metrics",
			sets: []string{"monitoring.prometheusRule.enabled=true", "monitoring.prometheusRule.backendMetrics=true", "monitoring.serviceMonitor.enabled=true"},
			wantAlerts: []string{"TodoChatbotPodRestarting", "TodoChatbotPodNotReady", "TodoChatbotDatabaseVolumeFilling",
				"TodoChatbotBackendErrors", "TodoChatbotBackendSlow"},
			claim: database,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, release, parseSet(t, tc.sets...))
			pr := monitoringObject(t, r, "PrometheusRule")
			if pr == nil {
				t.Fatal("no PrometheusRule rendered")
			}
			rules := alertRules(t, pr)
			got := slices.Sorted(func(yield func(string) bool) {
				for k := range rules {
					if !yield(k) {
						return
					}
				}
			})
			want := slices.Sorted(slices.Values(tc.wantAlerts))
			if !slices.Equal(got, want) {
				t.Fatalf("alerts = %v, want %v", got, want)
			}
			var podNames []string
			for name := range r.podSpecs() {
				if kind, n, _ := strings.Cut(name, "/"); kind != "Pod" {
					podNames = append(podNames, n)
				}
			}
			for _, ar := range rules {
				if sev := ar.Labels["severity"]; sev != "warning" && sev != "critical" {
					t.Errorf("%s: severity %q, want warning or critical", ar.Alert, sev)
				}
				for _, ns := range selectorValues(ar.Expr, "namespace") {
					if ns != "todo" {
						t.Errorf("%s selects namespace %q, want the release namespace", ar.Alert, ns)
					}
				}
				// The pod regex must match every workload's pods (named
				// <workload>-<hash>-<id> or <statefulset>-<ordinal>).
				for _, re := range selectorValues(ar.Expr, "pod") {
					rx := regexp.MustCompile("^(?:" + re + ")$")
					for _, w := range podNames {
						if !rx.MatchString(w + "-7d9f8c6b5-x2x4q") {
							t.Errorf("%s: pod regex %q misses the pods of %s", ar.Alert, re, w)
						}
					}
					if rx.MatchString("other-app-backend-1") {
						t.Errorf("%s: pod regex %q matches another app's pods", ar.Alert, re)
					}
				}
				for _, c := range selectorValues(ar.Expr, "persistentvolumeclaim") {
					if c != tc.claim {
						t.Errorf("%s watches claim %q, want %q", ar.Alert, c, tc.claim)
					}
				}
				for _, s := range selectorValues(ar.Expr, "service") {
					if s != backend {
						t.Errorf("%s selects service %q, want %q", ar.Alert, s, backend)
					}
				}
				if strings.Count(ar.Expr, "(") != strings.Count(ar.Expr, ")") {
					t.Errorf("%s: unbalanced parentheses in %q", ar.Alert, ar.Expr)
				}
			}
		})
	}
}

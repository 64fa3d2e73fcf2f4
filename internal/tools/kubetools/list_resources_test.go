package kubetools

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestListResources(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	for i := range 5 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cfg-%d", i)}, Data: map[string]string{"a": "1", "b": "2"}}
		if _, err := e.Client.CoreV1().ConfigMaps(e.Namespace).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	res := resultAs[ListResult](t, e.mustCall(t, NameListResources, map[string]any{"kind": "cm", "limit": 2}))
	if res.Count != 2 || len(res.Items) != 2 || !res.Truncated {
		t.Fatalf("list = %+v, want 2 rows and truncated", res)
	}
	// The namespace also holds kube-root-ca.crt, so 6 in total.
	if !strings.Contains(res.Note, "showing 2 of") || !strings.Contains(res.Note, "narrow with selector or raise limit") {
		t.Errorf("note = %q, want it to say the listing was cut and how to see more", res.Note)
	}
	if res.Items[0].Data != "2" || res.Namespace != e.Namespace {
		t.Errorf("row = %+v in %q, want data 2 in %s", res.Items[0], res.Namespace, e.Namespace)
	}

	res = resultAs[ListResult](t, e.mustCall(t, NameListResources, map[string]any{"kind": "configmaps"}))
	if res.Truncated || res.Count != 6 {
		t.Errorf("full list = %d rows truncated=%v, want 6 rows", res.Count, res.Truncated)
	}

	// Cluster-scoped kinds ignore the namespace.
	nodes := resultAs[ListResult](t, e.mustCall(t, NameListResources, map[string]any{"kind": "nodes"}))
	if nodes.Count == 0 || nodes.Namespace != "" || !strings.HasPrefix(nodes.Items[0].Status, "Ready") {
		t.Errorf("nodes = %+v, want ready nodes, cluster-scoped", nodes)
	}

	// Every kind the tool documents resolves, by its short name too, and lists.
	for _, kind := range []string{"po", "deploy", "sts", "ds", "rs", "jobs", "cj", "svc", "ing", "cm", "secrets",
		"pvc", "pv", "nodes", "ev", "ns", "hpa", "Deployment", "deployments.apps"} {
		e.mustCall(t, NameListResources, map[string]any{"kind": kind, "limit": 1})
	}
	all := resultAs[ListResult](t, e.mustCall(t, NameListResources, map[string]any{"kind": "cm", "all_namespaces": true, "limit": 3}))
	if all.Namespace != "all" || all.Count != 3 || all.Items[0].Namespace == "" || !all.Truncated {
		t.Errorf("all namespaces = %+v, want 3 rows with their namespaces, truncated", all)
	}

	rec := e.call(t, NameListResources, map[string]any{"kind": "gizmos"})
	if !errors.Is(rec.Err(), tools.ErrNotFound) || !strings.Contains(rec.Err().Error(), "common kinds") {
		t.Errorf("unknown kind: error = %v", rec.Err())
	}
}

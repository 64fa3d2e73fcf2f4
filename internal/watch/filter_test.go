package watch

import (
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRelevantUpdate(t *testing.T) {
	node := func(rv string, mutate func(*corev1.Node)) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: rv, Labels: map[string]string{"a": "b"}},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{
				Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				LastHeartbeatTime: metav1.NewTime(time.Unix(100, 0)), LastTransitionTime: metav1.NewTime(time.Unix(50, 0)),
			}}}}
		if mutate != nil {
			mutate(n)
		}
		return n
	}
	pod := func(rv string) *corev1.Pod { return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: rv}} }
	for _, tc := range []struct {
		name          string
		before, after any
		want          bool
	}{
		{"relist, same version", pod("1"), pod("1"), false},
		{"pod changed", pod("1"), pod("2"), true},
		{"node heartbeat only", node("1", nil), node("2", func(n *corev1.Node) {
			n.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(time.Unix(200, 0))
		}), false},
		{"node not ready", node("1", nil), node("2", func(n *corev1.Node) {
			n.Status.Conditions[0].Status = corev1.ConditionFalse
		}), true},
		{"node cordoned", node("1", nil), node("2", func(n *corev1.Node) { n.Spec.Unschedulable = true }), true},
		{"node relabelled", node("1", nil), node("2", func(n *corev1.Node) { n.Labels["a"] = "c" }), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := relevantUpdate(tc.before, tc.after); got != tc.want {
				t.Errorf("relevantUpdate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestVerbOf(t *testing.T) {
	for _, tc := range []struct{ method, url, want string }{
		{"GET", "/api/v1/pods?limit=500&resourceVersion=0", "list"},
		{"GET", "/api/v1/namespaces/todo/pods", "list"},
		{"GET", "/api/v1/namespaces/todo/pods?watch=true&resourceVersion=10", "watch"},
		{"GET", "/apis/apps/v1/namespaces/todo/deployments/backend", "get"},
		{"GET", "/api/v1/namespaces/todo/secrets/sh.helm.release.v1.todo.v2", "get"},
		{"GET", "/api/v1/namespaces", "list"},
		{"GET", "/api/v1/namespaces/todo", "get"},
		{"GET", "/apis/metrics.k8s.io/v1beta1/namespaces/todo/pods", "list"},
		{"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "create"},
		{"GET", "/version", "get"},
	} {
		r, err := http.NewRequest(tc.method, "https://api.example"+tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := verbOf(r); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.url, got, tc.want)
		}
	}
}

func TestSlimKeepsConfigMapKeysOnly(t *testing.T) {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{...}", "keep": "me"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Data:       map[string]string{"password": "hunter2"},
		BinaryData: map[string][]byte{"cert": []byte("x")},
	}
	out, err := slim(cm)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.ConfigMap)
	if v, ok := got.Data["password"]; !ok || v != "" {
		t.Errorf("Data[password] = %q, %v; want the key with no value", v, ok)
	}
	if v, ok := got.BinaryData["cert"]; !ok || v != nil {
		t.Errorf("BinaryData[cert] = %q, %v; want the key with no value", v, ok)
	}
	if _, ok := got.Annotations[corev1.LastAppliedConfigAnnotation]; ok || got.Annotations["keep"] != "me" || got.ManagedFields != nil {
		t.Errorf("metadata not slimmed as diagnose slims it: %+v", got.ObjectMeta)
	}
}

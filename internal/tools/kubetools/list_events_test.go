package kubetools

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestListEvents(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1})
	now := metav1.Now()
	// Events of an older object that had the same name: matched by UID,
	// they must not show up for the current one.
	for i, ev := range []corev1.Event{
		{ObjectMeta: metav1.ObjectMeta{Name: "stale"}, Type: corev1.EventTypeWarning, Reason: "OldTrouble", Message: "from a deleted web",
			InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "web", Namespace: e.Namespace, UID: "00000000-dead-beef-0000-000000000000"},
			LastTimestamp:  now, FirstTimestamp: now},
		{ObjectMeta: metav1.ObjectMeta{Name: "older"}, Type: corev1.EventTypeWarning, Reason: "BackOff", Message: "older warning",
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "x", Namespace: e.Namespace},
			LastTimestamp:  metav1.NewTime(now.Add(-time.Hour)), FirstTimestamp: metav1.NewTime(now.Add(-time.Hour))},
	} {
		ev.Source = corev1.EventSource{Component: "test"}
		if _, err := e.Client.CoreV1().Events(e.Namespace).Create(t.Context(), &ev, metav1.CreateOptions{}); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}

	res := resultAs[EventsResult](t, e.mustCall(t, NameListEvents, map[string]any{"kind": "deployment", "name": "web"}))
	reasons := eventReasons(res.Events)
	if !strings.Contains(reasons, "ScalingReplicaSet") || strings.Contains(reasons, "OldTrouble") {
		t.Errorf("events of deployment/web = %s, want ScalingReplicaSet and not the stale event", reasons)
	}
	if !strings.HasPrefix(res.Object, "deployment/web") {
		t.Errorf("object = %q", res.Object)
	}

	all := resultAs[EventsResult](t, e.mustCall(t, NameListEvents, map[string]any{"warnings_only": true}))
	if all.Count != 2 || all.Events[0].Reason != "OldTrouble" || all.Events[1].Reason != "BackOff" {
		t.Errorf("warnings = %+v, want the two warnings, newest first", all.Events)
	}
	one := resultAs[EventsResult](t, e.mustCall(t, NameListEvents, map[string]any{"limit": 1}))
	if one.Count != 1 || !one.Truncated || !strings.Contains(one.Note, "showing the newest 1 of") {
		t.Errorf("limit 1 = %+v", one)
	}
}

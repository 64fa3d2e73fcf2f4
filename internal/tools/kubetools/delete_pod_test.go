package kubetools

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestDeletePod(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1})
	pods, err := e.Client.CoreV1().Pods(e.Namespace).List(t.Context(), metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods of web: %v, %v", pods, err)
	}
	pod := pods.Items[0].Name

	// --yes alone does not allow a destructive action.
	rec := e.call(t, NameDeletePod, map[string]any{"name": pod})
	if !errors.Is(rec.Err(), tools.ErrApprovalRequired) || !strings.Contains(rec.Err().Error(), "--allow-destructive") {
		t.Fatalf("error = %v, want ErrApprovalRequired naming --allow-destructive", rec.Err())
	}
	if !strings.Contains(rec.Preview.Summary, "deployment/web via replicaset/") || !strings.Contains(rec.Preview.Summary, "will create a replacement") {
		t.Errorf("preview = %q, want the owner and that it will be replaced", rec.Preview.Summary)
	}
	if want := (tools.Target{Kind: "Pod", Namespace: e.Namespace, Name: pod}); len(rec.Preview.Targets) != 1 || rec.Preview.Targets[0] != want {
		t.Errorf("targets = %v, want %v", rec.Preview.Targets, want)
	}
	if _, err := e.Client.CoreV1().Pods(e.Namespace).Get(t.Context(), pod, metav1.GetOptions{}); err != nil {
		t.Fatalf("pod gone although deletion was refused: %v", err)
	}

	// Allowed: the pod is deleted (by the workload's name, since it has one pod).
	e.gate.Approver = &tools.Policy{AssumeYes: true, AllowDestructive: true}
	res := resultAs[DeletePodResult](t, e.mustCall(t, NameDeletePod, map[string]any{"name": "web"}))
	if res.Pod != pod || !res.WillRecreate {
		t.Errorf("result = %+v, want %s deleted and recreated", res, pod)
	}
	if p, err := e.Client.CoreV1().Pods(e.Namespace).Get(t.Context(), pod, metav1.GetOptions{}); !apierrors.IsNotFound(err) && p.DeletionTimestamp == nil {
		t.Errorf("pod %s still exists and is not terminating", pod)
	}

	// A bare pod's preview says it will not come back.
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "one-off"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if _, err := e.Client.CoreV1().Pods(e.Namespace).Create(t.Context(), bare, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.gate.DryRun = true
	rec = e.mustCall(t, NameDeletePod, map[string]any{"name": "one-off"})
	if !strings.Contains(rec.Preview.Summary, "bare pod") || !strings.Contains(rec.Preview.Summary, "gone for good") {
		t.Errorf("bare pod preview = %q", rec.Preview.Summary)
	}
}

package kubetools

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestGetResourceNeverShowsSecretValues(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	const value = "s3cr3t-p4ssw0rd-value"
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db-creds", Annotations: map[string]string{
			// What kubectl apply leaves behind: the whole manifest, data included.
			"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"v1","kind":"Secret","stringData":{"password":"` + value + `"}}`,
		}},
		StringData: map[string]string{"password": value, "username": "app"},
	}
	if _, err := e.Client.CoreV1().Secrets(e.Namespace).Create(t.Context(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.createDeployment(t, deploySpec{name: "api", replicas: 1, env: []corev1.EnvVar{
		{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db-creds"}, Key: "password"}}},
	}})

	rec := e.mustCall(t, NameGetResource, map[string]any{"kind": "secret", "name": "db-creds"})
	out, _ := json.Marshal(rec)
	if strings.Contains(string(out), value) {
		t.Fatalf("get_resource returned the secret value: %s", out)
	}
	d := resultAs[Description](t, rec)
	if d.Secret == nil || len(d.Secret.Keys) != 2 || d.Secret.Keys[0] != (DataKey{Key: "password", Bytes: len(value)}) {
		t.Errorf("secret detail = %+v, want key names and sizes", d.Secret)
	}

	// The secret list shows type and key count only.
	out, _ = json.Marshal(e.mustCall(t, NameListResources, map[string]any{"kind": "secrets"}))
	if strings.Contains(string(out), value) {
		t.Fatalf("list_resources returned the secret value: %s", out)
	}

	// Pods and workloads show the reference, never the resolved value.
	for _, kind := range []string{"deployment", "pod"} {
		rec := e.mustCall(t, NameGetResource, map[string]any{"kind": kind, "name": "api"})
		out, _ := json.Marshal(rec)
		if strings.Contains(string(out), value) {
			t.Fatalf("get_resource %s returned the secret value: %s", kind, out)
		}
		if !strings.Contains(string(out), "DB_PASSWORD from secretKeyRef db-creds/password") {
			t.Errorf("get_resource %s does not show the secret reference: %s", kind, out)
		}
	}
}

func TestGetResourceDescribesWorkloadsAndPods(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "todo-chatbot-frontend", replicas: 2, image: "registry.example/fe:3",
		labels: map[string]string{"app.kubernetes.io/component": "frontend"}})
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "todo-chatbot-frontend"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "nothing-matches"}, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := e.Client.CoreV1().Services(e.Namespace).Create(t.Context(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	d := resultAs[Description](t, e.mustCall(t, NameGetResource, map[string]any{"kind": "deploy", "name": "frontend"}))
	w := d.Workload
	if d.Name != "todo-chatbot-frontend" || w == nil || !w.Progress.Done || w.Progress.Ready != 2 || len(w.Pods) != 2 ||
		w.Containers[0].Image != "registry.example/fe:3" || w.Revision != "1" {
		t.Fatalf("deployment description = %+v / %+v", d, w)
	}
	if len(d.Events) == 0 || !strings.Contains(eventReasons(d.Events), "ScalingReplicaSet") {
		t.Errorf("events = %+v, want the deployment's ScalingReplicaSet", d.Events)
	}
	if !strings.Contains(eventReasons(d.Events), "Scheduled") {
		t.Errorf("events = %+v, want its pods' events too", d.Events)
	}

	// A pod by the workload's loose name is ambiguous with two replicas; by
	// its own name it is described.
	pod := w.Pods[0].Name
	p := resultAs[Description](t, e.mustCall(t, NameGetResource, map[string]any{"kind": "po", "name": pod}))
	if p.Pod == nil || p.Pod.Status != "Running" || p.Pod.Node == "" || len(p.Pod.Containers) != 1 ||
		p.Pod.Containers[0].State == nil || p.Pod.Containers[0].State.State != "running" {
		t.Errorf("pod description = %+v", p.Pod)
	}
	if len(p.Owners) != 1 || !strings.HasPrefix(p.Owners[0], "ReplicaSet/todo-chatbot-frontend-") {
		t.Errorf("owners = %v", p.Owners)
	}

	// The service's empty endpoints are explained.
	s := resultAs[Description](t, e.mustCall(t, NameGetResource, map[string]any{"kind": "svc", "name": "todo-chatbot-frontend"}))
	if s.Service == nil || s.Service.ReadyEndpoints != 0 || !strings.Contains(s.Service.Note, "no pod") {
		t.Errorf("service description = %+v", s.Service)
	}
}

func eventReasons(rows []EventRow) string {
	var rs []string
	for _, r := range rows {
		rs = append(rs, r.Reason)
	}
	return strings.Join(rs, ",")
}

package testcluster

import (
	"context"
	"encoding/base64"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Canaries are values planted in a namespace that must never reach a model
// or any other outside receiver. Each sits in one place, so that each
// redaction rule is tested on its own: only the Secret's value is known to
// a redactor as a value; the others must be caught by their key names or by
// the URL pattern.
type Canaries struct {
	Secret, SecretB64 string // a Secret's value (also in logs, an annotation, a ConfigMap)
	Env               string // a literal env value DB_PASSWORD=… on a Deployment
	ConfigMap         string // a ConfigMap key "password"
	URL               string // the password in a ConfigMap's postgres:// URL
}

// All is every canary, as a list to search for.
func (c Canaries) All() []string {
	return []string{c.Secret, c.SecretB64, c.Env, c.ConfigMap, c.URL}
}

// CanaryPod is the crash-looping pod whose logs print every canary.
const CanaryPod = "leaky"

// PlantCanaries creates, in the test's namespace: Secret "db" (password),
// the ConfigMap "app-config" (password, DATABASE_URL, ENCODED), the
// Deployment "app" (literal DB_PASSWORD, reading app-config), and the
// crash-looping pod CanaryPod whose logs print every canary, one of them
// bare (only redaction by value catches it). It returns once the pod runs,
// so its logs can be read.
func (e *Env) PlantCanaries(t testing.TB) Canaries {
	t.Helper()
	ctx := context.Background()
	c := Canaries{Secret: "opsagent-canary-4f9d2b7e", Env: "envcanary-7c1e90aa", ConfigMap: "cmcanary-51b3d8e2", URL: "urlcanary-a93f0c17"}
	c.SecretB64 = base64.StdEncoding.EncodeToString([]byte(c.Secret))
	create := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("plant canaries: create %s: %v", what, err)
		}
	}

	_, err := e.Client.CoreV1().Secrets(e.Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Data:       map[string][]byte{"password": []byte(c.Secret)},
	}, metav1.CreateOptions{})
	create("Secret db", err)
	_, err = e.Client.CoreV1().ConfigMaps(e.Namespace).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "app-config"},
		Data: map[string]string{
			"password":     c.ConfigMap,
			"DATABASE_URL": "postgres://app:" + c.URL + "@db:5432/app",
			"ENCODED":      c.SecretB64,
		},
	}, metav1.CreateOptions{})
	create("ConfigMap app-config", err)
	labels := map[string]string{"app": "canary-app"}
	_, err = e.Client.AppsV1().Deployments(e.Namespace).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example/app:1",
					Env: []corev1.EnvVar{{Name: "DB_PASSWORD", Value: c.Env}, {Name: "MODE", Value: "production"}},
					EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"}}}},
				}}},
			},
		},
	}, metav1.CreateOptions{})
	create("Deployment app", err)
	_, err = e.Client.CoreV1().Pods(e.Namespace).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: CanaryPod,
			Labels:      map[string]string{"sim.opsagent.dev/state": "CrashLoopBackOff"},
			Annotations: map[string]string{"debug/password": c.Secret}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.example/app:1",
			Env: []corev1.EnvVar{
				{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{
					SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}},
				{Name: "POSTGRES_PASSWORD", Value: c.Env},
			},
		}}},
	}, metav1.CreateOptions{})
	create("Pod "+CanaryPod, err)
	logs := []string{
		"connecting with password " + c.Secret,
		"retrying as " + c.Secret,
		"auth header " + c.SecretB64,
		"env DB_PASSWORD=" + c.Env,
		`config {"password": "` + c.ConfigMap + `"}`,
		"dsn postgres://app:" + c.URL + "@db:5432/app",
		"FATAL: password authentication failed",
	}
	e.SetPodLogs(t, CanaryPod, logs, logs)
	e.WaitPodRunning(t, CanaryPod)
	return c
}

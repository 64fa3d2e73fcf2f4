package kubetools

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

// secretCanary is a Secret value that must never appear in any output.
const secretCanary = "canary-s3cr3t-value-7f3a"

// envFixture creates a deployment with two variables, a Secret and a
// ConfigMap to reference.
func envFixture(t *testing.T, e *clusterEnv) {
	t.Helper()
	e.createDeployment(t, deploySpec{name: "backend", replicas: 1,
		env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "OLD_FLAG", Value: "1"}}})
	ctx := t.Context()
	if _, err := e.Client.CoreV1().Secrets(e.Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db-creds"},
		StringData: map[string]string{"password": secretCanary, "user": "todo"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.CoreV1().ConfigMaps(e.Namespace).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "app-config"},
		Data:       map[string]string{"db_url": "postgres://db:5432/todo"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestSetEnv(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	envFixture(t, e)

	args := map[string]any{
		"name": "backend",
		"set": []map[string]any{
			{"name": "LOG_LEVEL", "value": "debug"},
			{"name": "API_TOKEN", "value": "tok-canary-1234"},
			{"name": "DB_PASSWORD", "secret_key_ref": map[string]any{"name": "db-creds", "key": "password"}},
			{"name": "DB_URL", "config_map_key_ref": map[string]any{"name": "app-config", "key": "db_url"}},
			{"name": "EMPTY", "value": ""},
		},
		"unset": []string{"OLD_FLAG"},
	}
	rec := e.mustCall(t, NameSetEnv, args)
	wantPreview(t, rec, "deployment/backend in "+e.Namespace+": container app env: "+
		"~ LOG_LEVEL=info → LOG_LEVEL=debug; + API_TOKEN=[REDACTED]; + DB_PASSWORD from secretKeyRef db-creds/password; "+
		"+ DB_URL from configMapKeyRef app-config/db_url; + EMPTY=; - OLD_FLAG",
		tools.Write, tools.Target{Kind: "Deployment", Namespace: e.Namespace, Name: "backend"})
	out, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), secretCanary) || strings.Contains(rec.Preview.Diff, "tok-canary") {
		t.Errorf("a secret value leaked into the record: %s", out)
	}

	want := []corev1.EnvVar{
		{Name: "LOG_LEVEL", Value: "debug"},
		{Name: "API_TOKEN", Value: "tok-canary-1234"},
		{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db-creds"}, Key: "password"}}},
		{Name: "DB_URL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"}, Key: "db_url"}}},
		{Name: "EMPTY"},
	}
	if got := e.getDeployment(t, "backend").Spec.Template.Spec.Containers[0].Env; !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("env = %+v\nwant %+v", got, want)
	}
	if res := resultAs[TemplateChangeResult](t, rec); !res.Converged {
		t.Errorf("result = %+v, want converged", res)
	}

	wantNoChange(t, e.call(t, NameSetEnv, args))
}

func TestSetEnvChecksReferences(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	envFixture(t, e)

	ref := func(kind, name, key string) map[string]any {
		return map[string]any{"name": "backend", "set": []map[string]any{{"name": "X", kind: map[string]any{"name": name, "key": key}}}}
	}
	rec := e.call(t, NameSetEnv, ref("secret_key_ref", "db-creds", "passwd"))
	wantRefused(t, rec, tools.ErrNotFound, `secret db-creds`, `has no key "passwd"`, "password, user")
	if strings.Contains(rec.Error, secretCanary) {
		t.Errorf("error leaks the secret's value: %s", rec.Error)
	}
	wantRefused(t, e.call(t, NameSetEnv, ref("secret_key_ref", "no-such-secret", "password")),
		tools.ErrNotFound, "secret no-such-secret does not exist", "create it first")
	wantRefused(t, e.call(t, NameSetEnv, ref("config_map_key_ref", "app-config", "url")),
		tools.ErrNotFound, `configmap app-config`, `no key "url"`, "db_url")
	if d := e.getDeployment(t, "backend"); d.Generation != 1 {
		t.Errorf("refused calls changed the deployment (generation %d)", d.Generation)
	}
}

func TestSetEnvRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	envFixture(t, e)

	tests := []struct {
		name string
		args map[string]any
		says string
	}{
		{"nothing", map[string]any{}, "set or unset"},
		{"bad name", map[string]any{"set": []map[string]any{{"name": "1ST", "value": "x"}}}, "not a valid variable name"},
		{"no source", map[string]any{"set": []map[string]any{{"name": "A"}}}, "exactly one of"},
		{"two sources", map[string]any{"set": []map[string]any{{"name": "A", "value": "x", "config_map_key_ref": map[string]any{"name": "app-config", "key": "db_url"}}}}, "exactly one of"},
		{"twice", map[string]any{"set": []map[string]any{{"name": "A", "value": "x"}}, "unset": []string{"A"}}, "appears twice"},
		{"bad ref name", map[string]any{"set": []map[string]any{{"name": "A", "secret_key_ref": map[string]any{"name": "Bad_Name", "key": "k"}}}}, "not a valid object name"},
		{"unknown field", map[string]any{"set": []map[string]any{{"name": "A", "valueFrom": "x"}}}, `unknown argument "valueFrom"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.args["name"] = "backend"
			wantRefused(t, e.call(t, NameSetEnv, tt.args), tools.ErrInvalidArgs, tt.says)
		})
	}
	if d := e.getDeployment(t, "backend"); d.Generation != 1 {
		t.Errorf("refused calls changed the deployment (generation %d)", d.Generation)
	}
}

func TestSetEnvConflict(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	envFixture(t, e)
	action := e.prepare(t, NameSetEnv, map[string]any{"name": "backend", "set": []map[string]any{{"name": "LOG_LEVEL", "value": "debug"}}})

	d := e.getDeployment(t, "backend")
	d.Spec.Template.Spec.Containers[0].Env[0].Value = "warn"
	if _, err := e.Client.AppsV1().Deployments(e.Namespace).Update(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("Run error = %v, want ErrConflict", err)
	}
	if v := e.getDeployment(t, "backend").Spec.Template.Spec.Containers[0].Env[0].Value; v != "warn" {
		t.Errorf("LOG_LEVEL = %s, want the concurrent change (warn) kept", v)
	}
}

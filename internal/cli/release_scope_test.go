package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/testcluster"
)

// TestInstallCreateNamespaceUnderYes checks that `opsagent install -n NS
// --create-namespace --yes` installs the built-in chart: creating the one
// namespace the user named is an ordinary write, and the chart renders
// nothing privileged. A chart the user typed that renders a
// ClusterRoleBinding is refused under --yes alone, naming the flag.
func TestInstallCreateNamespaceUnderYes(t *testing.T) {
	isolateEnv(t)
	env := testcluster.New(t)
	ns := env.Namespace + "-new"
	t.Cleanup(func() {
		err := env.Client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", ns, err)
		}
	})
	run := func(args ...string) cliResult {
		t.Helper()
		return runReleaseCLI(t, append(args, "--kubeconfig", env.Kubeconfig, "--audit-log", filepath.Join(t.TempDir(), "audit.log"))...)
	}

	res := run("install", "-n", ns, "--create-namespace", "--yes", "--wait=false", "--atomic=false")
	if res.code != ExitOK {
		t.Fatalf("install --create-namespace --yes: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "Namespace/"+ns) || !strings.Contains(res.stdout, "Hooks") {
		t.Errorf("preview should show the namespace to create and the hooks:\n%s", res.stdout)
	}
	if _, err := env.Client.AppsV1().Deployments(ns).Get(context.Background(), "todo-chatbot-backend", metav1.GetOptions{}); err != nil {
		t.Errorf("backend deployment: %v", err)
	}

	dir := filepath.Join(t.TempDir(), "rbac")
	for name, content := range map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: rbac\nversion: 0.1.0\n",
		"templates/crb.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {{ .Release.Namespace }}-admin\n" +
			"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n" +
			"subjects: [{kind: ServiceAccount, name: default, namespace: {{ .Release.Namespace }}}]\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res = run("install", "rbac", dir, "-n", env.Namespace, "--yes", "--wait=false", "--atomic=false")
	if res.code != ExitApprovalRequired || !strings.Contains(res.stdout, "✗ ") || !strings.Contains(res.stdout, "--allow-privileged") {
		t.Errorf("install of a ClusterRoleBinding under --yes: exit %d, want %d naming --allow-privileged\n%s%s", res.code, ExitApprovalRequired, res.stdout, res.stderr)
	}
	if res := run("status", "rbac", "-n", env.Namespace); res.code != ExitBadInput {
		t.Errorf("status after the refused install: exit %d, want %d (not installed)", res.code, ExitBadInput)
	}
}

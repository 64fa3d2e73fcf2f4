package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools/configtools"
)

// TestCreateSecretFromFile checks that a value read by the CLI reaches the
// Secret and nothing else: not stdout (-o json), not the audit log.
func TestCreateSecretFromFile(t *testing.T) {
	isolateEnv(t)
	env := testcluster.New(t)
	dir := t.TempDir()
	auditLog := filepath.Join(dir, "audit.log")
	value := "file-secret-" + env.Namespace
	path := filepath.Join(dir, "password.txt")
	if err := os.WriteFile(path, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) cliResult {
		t.Helper()
		return runCLI(t, stdin, append(args, "--kubeconfig", env.Kubeconfig, "-n", env.Namespace, "--audit-log", auditLog)...)
	}

	res := run("", "create", "secret", "db", "--from-file", "password="+path, "--yes", "-o", "json")
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	s, err := env.Client.CoreV1().Secrets(env.Namespace).Get(t.Context(), "db", metav1.GetOptions{})
	if err != nil || string(s.Data["password"]) != value {
		t.Fatalf("secret: err %v, password %q, want the file's content", err, s.Data["password"])
	}
	var rec struct {
		Tool    string          `json:"tool"`
		Args    json.RawMessage `json:"args"`
		Preview struct{ Summary string }
	}
	if err := json.Unmarshal([]byte(res.stdout), &rec); err != nil {
		t.Fatalf("stdout is not one JSON record: %v\n%s", err, res.stdout)
	}
	var args configtools.SourcedSecretArgs
	if err := json.Unmarshal(rec.Args, &args); err != nil {
		t.Fatal(err)
	}
	if rec.Tool != configtools.NameCreateSecret || len(args.Keys) != 1 || args.Keys[0] != (configtools.SourcedSecretKey{Key: "password", From: "file"}) ||
		!strings.Contains(rec.Preview.Summary, "password (added, from file, ") {
		t.Errorf("record = %s %s %+v", rec.Tool, rec.Args, rec.Preview)
	}
	audit, err := os.ReadFile(auditLog)
	if err != nil || !strings.Contains(string(audit), configtools.NameCreateSecret) {
		t.Fatalf("audit log: err %v, %s", err, audit)
	}
	for where, text := range map[string]string{"stdout": res.stdout, "stderr": res.stderr, "audit log": string(audit)} {
		if strings.Contains(text, value) {
			t.Errorf("the secret value appears in %s: %s", where, text)
		}
	}

	// stdin: one trailing newline dropped; nothing else can be asked on it.
	res = run(value+"-stdin\n", "create", "secret", "tok", "--from-literal-stdin", "token", "--yes")
	if res.code != ExitOK || strings.Contains(res.stdout, value) {
		t.Fatalf("stdin: exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	if s, err := env.Client.CoreV1().Secrets(env.Namespace).Get(t.Context(), "tok", metav1.GetOptions{}); err != nil || string(s.Data["token"]) != value+"-stdin" {
		t.Errorf("secret tok: err %v, token %q", err, s.Data["token"])
	}

	// Replacing the value is destructive: --yes alone is not enough. The
	// text output shows the refusal with the record, as the agent's does.
	res = run("", "create", "secret", "db", "--generate", "password=20", "--yes")
	if res.code != ExitApprovalRequired || !strings.Contains(res.stdout, "✗ ") || !strings.Contains(res.stdout, "--allow-destructive") {
		t.Errorf("replace with --yes only: exit %d, stdout %s, stderr %s", res.code, res.stdout, res.stderr)
	}
	res = run("", "create", "secret", "db", "--generate", "password=20", "--yes", "--allow-destructive")
	if s, err := env.Client.CoreV1().Secrets(env.Namespace).Get(t.Context(), "db", metav1.GetOptions{}); res.code != ExitOK || err != nil || len(s.Data["password"]) != 20 {
		t.Errorf("replace: exit %d (%s), err %v, password %d bytes", res.code, res.stderr, err, len(s.Data["password"]))
	}
	if audit, _ := os.ReadFile(auditLog); strings.Contains(string(audit), value) {
		t.Errorf("the secret value appears in the audit log: %s", audit)
	}

	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, configtools.MaxDataBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"a directory":  {"create", "secret", "bad", "--from-file", "k=" + dir, "--yes"},
		"a big file":   {"create", "secret", "bad", "--from-file", "k=" + big, "--yes"},
		"missing file": {"create", "secret", "bad", "--from-file", "k=" + filepath.Join(dir, "nope"), "--yes"},
		"no key":       {"create", "secret", "bad", "--yes"},
		"bad key":      {"create", "secret", "bad", "--from-file", "a b=" + path, "--yes"},
		"bad length":   {"create", "secret", "bad", "--generate", "k=8", "--yes"},
		"bad literal":  {"create", "configmap", "bad", "--from-literal", "novalue", "--yes"},
	} {
		if res := run("", args...); res.code != ExitBadInput {
			t.Errorf("%s: exit %d, want %d; stderr %s", name, res.code, ExitBadInput, res.stderr)
		}
	}
	if _, err := env.Client.CoreV1().Secrets(env.Namespace).Get(t.Context(), "bad", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("secret bad exists after bad input (err %v)", err)
	}
}

func TestCreateConfigMapCLI(t *testing.T) {
	isolateEnv(t)
	env := testcluster.New(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte("server { listen 80; }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) cliResult {
		t.Helper()
		return runCLI(t, "", append(args, "--kubeconfig", env.Kubeconfig, "-n", env.Namespace, "--audit-log", filepath.Join(dir, "audit.log"))...)
	}
	get := func() (map[string]string, error) {
		cm, err := env.Client.CoreV1().ConfigMaps(env.Namespace).Get(t.Context(), "web", metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return cm.Data, nil
	}

	res := run("create", "configmap", "web", "--from-literal", "MODE=fast", "--from-file", conf, "--dry-run")
	if _, err := get(); res.code != ExitOK || !apierrors.IsNotFound(err) || !strings.Contains(res.stdout, "create with 2 key(s): MODE, nginx.conf") {
		t.Fatalf("dry run: exit %d, err %v, stdout %s", res.code, err, res.stdout)
	}
	// No terminal and no --yes: nothing is changed (exit 3).
	if res = run("create", "cm", "web", "--from-literal", "MODE=fast"); res.code != ExitApprovalRequired {
		t.Errorf("without --yes: exit %d, want %d", res.code, ExitApprovalRequired)
	}
	if res = run("create", "cm", "web", "--from-literal", "MODE=fast", "--from-file", conf, "--yes"); res.code != ExitOK {
		t.Fatalf("create: exit %d: %s", res.code, res.stderr)
	}
	if data, err := get(); err != nil || data["MODE"] != "fast" || data["nginx.conf"] != "server { listen 80; }\n" {
		t.Errorf("configmap: err %v, data %v", err, data)
	}
}

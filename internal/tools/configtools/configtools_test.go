package configtools

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/toolstest"
)

// configEnv is one test's namespace, the clients, and a gate over the
// model-facing config tools that approves writes in that namespace (--yes),
// recording what it audits.
type configEnv struct {
	*testcluster.Env
	c      *kube.Clients
	gate   *tools.Gate
	policy *tools.Policy
	audit  *memAudit
}

func newConfigEnv(t *testing.T) *configEnv {
	t.Helper()
	env := testcluster.New(t)
	c, err := kube.NewClients(env.Getter())
	if err != nil {
		t.Fatalf("clients: %v", err)
	}
	e := &configEnv{Env: env, c: c, policy: &tools.Policy{AssumeYes: true}, audit: &memAudit{}}
	e.gate = &tools.Gate{Registry: tools.NewRegistry(New(c)...), Approver: e.policy, Audit: e.audit,
		Scope: tools.Scope{Namespace: env.Namespace}}
	return e
}

// call runs a tool through the test's gate.
func (e *configEnv) call(t *testing.T, tool string, v any) *tools.Record {
	t.Helper()
	return toolstest.Call(t, e.gate, tool, v)
}

// mustCall runs a tool through the test's gate and fails the test if it fails.
func (e *configEnv) mustCall(t *testing.T, tool string, v any) *tools.Record {
	t.Helper()
	return toolstest.MustCall(t, e.gate, tool, v)
}

func (e *configEnv) configMap(t *testing.T, name string) *corev1.ConfigMap {
	t.Helper()
	cm, err := e.Client.CoreV1().ConfigMaps(e.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get configmap %s: %v", name, err)
	}
	return cm
}

func (e *configEnv) secret(t *testing.T, name string) *corev1.Secret {
	t.Helper()
	s, err := e.Client.CoreV1().Secrets(e.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get secret %s: %v", name, err)
	}
	return s
}

// memAudit keeps audit entries in memory.
type memAudit struct {
	mu      sync.Mutex
	entries []tools.AuditEntry
}

func (m *memAudit) Check() error { return nil }

func (m *memAudit) Record(_ context.Context, e tools.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

func (m *memAudit) json(t *testing.T) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := json.Marshal(m.entries)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertNoValue fails if any of values appears in what the record or the
// audit log hold: arguments, preview, result, error.
func assertNoValue(t *testing.T, e *configEnv, rec *tools.Record, values ...[]byte) {
	t.Helper()
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	seen := string(b) + rec.Error + e.audit.json(t)
	for _, v := range values {
		if len(v) == 0 {
			t.Fatal("empty value: nothing to look for")
		}
		if strings.Contains(seen, string(v)) {
			t.Errorf("a secret value appears in the record or the audit log: %s", seen)
		}
	}
}

var urlSafe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func TestCreateSecretGenerated(t *testing.T) {
	t.Parallel()
	e := newConfigEnv(t)
	ref := "secret/db in " + e.Namespace

	rec := e.mustCall(t, NameCreateSecret, map[string]any{"name": "db",
		"keys": []map[string]any{{"key": "password", "generate_length": 40}, {"key": "token"}}})
	want := ref + " (Opaque): create with keys password (added, generated, 40 bytes), token (added, generated, 32 bytes)"
	if rec.Preview == nil || rec.Preview.Summary != want || rec.Risk != tools.Write {
		t.Errorf("preview = %+v risk %s, want %q, write", rec.Preview, rec.Risk, want)
	}
	if tg := rec.Preview.Targets; len(tg) != 1 || tg[0] != (tools.Target{Kind: "Secret", Namespace: e.Namespace, Name: "db"}) {
		t.Errorf("targets = %+v", tg)
	}
	s := e.secret(t, "db")
	pw, tok := s.Data["password"], s.Data["token"]
	if s.Type != corev1.SecretTypeOpaque || len(pw) != 40 || len(tok) != 32 || !urlSafe.Match(pw) || !urlSafe.Match(tok) {
		t.Fatalf("secret type %s, password %d bytes, token %d bytes; want Opaque, 40 and 32 URL-safe characters", s.Type, len(pw), len(tok))
	}
	assertNoValue(t, e, rec, pw, tok)

	// Adding a key is a write; the existing keys are kept.
	rec = e.mustCall(t, NameCreateSecret, map[string]any{"name": "db", "keys": []map[string]any{{"key": "salt", "generate_length": 16}}})
	if rec.Risk != tools.Write || rec.Preview.Summary != ref+": update: adds keys salt" {
		t.Errorf("add key: risk %s preview %q", rec.Risk, rec.Preview.Summary)
	}
	s = e.secret(t, "db")
	if string(s.Data["password"]) != string(pw) || len(s.Data["salt"]) != 16 {
		t.Errorf("after adding salt: password kept %v, salt %d bytes", string(s.Data["password"]) == string(pw), len(s.Data["salt"]))
	}

	// Replacing a value loses the old one: destructive, refused by --yes alone.
	args := map[string]any{"name": "db", "keys": []map[string]any{{"key": "password"}}}
	rec = e.call(t, NameCreateSecret, args)
	if !errors.Is(rec.Err(), tools.ErrApprovalRequired) || rec.Risk != tools.Destructive ||
		!strings.Contains(rec.Preview.Summary, "replaces keys password (their current values are lost)") {
		t.Fatalf("replace without --allow-destructive: err %v risk %s preview %+v", rec.Err(), rec.Risk, rec.Preview)
	}
	if got := e.secret(t, "db").Data["password"]; string(got) != string(pw) {
		t.Fatal("password replaced although the change was refused")
	}
	e.policy.AllowDestructive = true
	rec = e.mustCall(t, NameCreateSecret, args)
	s = e.secret(t, "db")
	if np := s.Data["password"]; len(np) != 32 || string(np) == string(pw) || string(s.Data["token"]) != string(tok) {
		t.Errorf("after replacing: password %d bytes (changed %v), token kept %v", len(np), string(np) != string(pw), string(s.Data["token"]) == string(tok))
	}
	assertNoValue(t, e, rec, pw, tok, s.Data["password"], s.Data["salt"])
}

func TestCreateSecretFromValues(t *testing.T) {
	t.Parallel()
	e := newConfigEnv(t)
	value := []byte("s3cr3t-from-a-file-" + e.Namespace)
	reg := tools.NewRegistry(CreateSecret(e.c, WithValues(map[string][]byte{"api-key": value})))
	gate := &tools.Gate{Registry: reg, Approver: e.policy, Audit: e.audit, Scope: tools.Scope{Namespace: e.Namespace}}
	args := []byte(`{"name":"api","keys":[{"key":"api-key","from":"file"}]}`)

	rec := gate.Call(t.Context(), NameCreateSecret, args)
	if rec.Err() != nil {
		t.Fatal(rec.Err())
	}
	if want := "api-key (added, from file, " + strconv.Itoa(len(value)) + " bytes)"; !strings.Contains(rec.Preview.Summary, want) {
		t.Errorf("preview %q does not show %q", rec.Preview.Summary, want)
	}
	if got := e.secret(t, "api").Data["api-key"]; string(got) != string(value) {
		t.Fatalf("secret holds %d bytes, want the file's %d", len(got), len(value))
	}
	assertNoValue(t, e, rec, value)

	// The same value again: nothing to do.
	if rec = gate.Call(t.Context(), NameCreateSecret, args); rec.Err() != nil || !rec.Preview.NoChange {
		t.Errorf("same value again: err %v preview %+v, want NoChange", rec.Err(), rec.Preview)
	}
	// A key the CLI read no value for is refused.
	rec = gate.Call(t.Context(), NameCreateSecret, []byte(`{"name":"api","keys":[{"key":"other","from":"stdin"}]}`))
	if !errors.Is(rec.Err(), tools.ErrInvalidArgs) {
		t.Errorf("from without a value: err %v, want ErrInvalidArgs", rec.Err())
	}
	// The type of an existing Secret cannot change.
	rec = gate.Call(t.Context(), NameCreateSecret, []byte(`{"name":"api","type":"kubernetes.io/basic-auth","keys":[{"key":"api-key","from":"file"}]}`))
	if !errors.Is(rec.Err(), tools.ErrInvalidArgs) || !strings.Contains(rec.Err().Error(), "type cannot change") {
		t.Errorf("type change: err %v, want ErrInvalidArgs", rec.Err())
	}
}

func TestCreateSecretBadInput(t *testing.T) {
	t.Parallel()
	e := newConfigEnv(t)
	for _, tc := range []struct{ name, args string }{
		// The model-facing tool has no values source: it knows no "from".
		{"from for the model", `{"name":"s","keys":[{"key":"a","from":"file"}]}`},
		{"a value for the model", `{"name":"s","keys":[{"key":"a","value":"hunter2"}]}`},
		{"too short", `{"name":"s","keys":[{"key":"a","generate_length":8}]}`},
		{"too long", `{"name":"s","keys":[{"key":"a","generate_length":257}]}`},
		{"bad key", `{"name":"s","keys":[{"key":"a/b"}]}`},
		{"duplicate key", `{"name":"s","keys":[{"key":"a"},{"key":"a"}]}`},
		{"no keys", `{"name":"s","keys":[]}`},
		{"token type", `{"name":"s","type":"kubernetes.io/service-account-token","keys":[{"key":"a"}]}`},
		{"bad name", `{"name":"S_1","keys":[{"key":"a"}]}`},
		{"bad namespace", `{"name":"s","namespace":"Bad_NS","keys":[{"key":"a"}]}`},
	} {
		rec := e.gate.Call(t.Context(), NameCreateSecret, []byte(tc.args))
		if !errors.Is(rec.Err(), tools.ErrInvalidArgs) || rec.Preview != nil || rec.Approved {
			t.Errorf("%s: err %v preview %+v, want ErrInvalidArgs and nothing previewed", tc.name, rec.Err(), rec.Preview)
		}
		if strings.Contains(rec.Error, "hunter2") {
			t.Errorf("%s: the error echoes the value: %s", tc.name, rec.Error)
		}
	}
	l, err := e.Client.CoreV1().Secrets(e.Namespace).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range l.Items {
		if s.Name == "s" || s.Name == "S_1" {
			t.Errorf("secret %s was created from bad input", s.Name)
		}
	}
}

func TestCreateConfigMap(t *testing.T) {
	t.Parallel()
	e := newConfigEnv(t)
	ref := "configmap/app in " + e.Namespace

	rec := e.mustCall(t, NameCreateConfigMap, map[string]any{"name": "app",
		"data": []map[string]string{{"key": "MODE", "value": "fast"}, {"key": "LOG_LEVEL", "value": "info"}}})
	if p := rec.Preview; p.Summary != ref+": create with 2 key(s): LOG_LEVEL, MODE" || p.Diff != "+ LOG_LEVEL: \"info\"\n+ MODE: \"fast\"" {
		t.Errorf("create preview = %+v", p)
	}
	if got := e.configMap(t, "app").Data; len(got) != 2 || got["MODE"] != "fast" || got["LOG_LEVEL"] != "info" {
		t.Fatalf("configmap data = %v", got)
	}

	rec = e.mustCall(t, NameCreateConfigMap, map[string]any{"name": "app",
		"data": []map[string]string{{"key": "LOG_LEVEL", "value": "debug"}, {"key": "NEW", "value": "x"}}})
	p := rec.Preview
	if p.Summary != ref+": change LOG_LEVEL; add NEW" || p.Diff != "~ LOG_LEVEL: \"info\" → \"debug\"\n+ NEW: \"x\"\n  kept: MODE" {
		t.Errorf("update preview = %q\n%s", p.Summary, p.Diff)
	}
	if got := e.configMap(t, "app").Data; len(got) != 3 || got["LOG_LEVEL"] != "debug" || got["NEW"] != "x" || got["MODE"] != "fast" {
		t.Fatalf("configmap data after update = %v", got)
	}

	before := e.configMap(t, "app").ResourceVersion
	rec = e.mustCall(t, NameCreateConfigMap, map[string]any{"name": "app", "data": []map[string]string{{"key": "MODE", "value": "fast"}}})
	if !rec.Preview.NoChange || rec.Changed() {
		t.Errorf("identical values: preview %+v, want NoChange", rec.Preview)
	}
	if after := e.configMap(t, "app").ResourceVersion; after != before {
		t.Errorf("a no-change call wrote the configmap (%s → %s)", before, after)
	}
}

func TestCreateConfigMapConflict(t *testing.T) {
	t.Parallel()
	e := newConfigEnv(t)
	e.mustCall(t, NameCreateConfigMap, map[string]any{"name": "app", "data": []map[string]string{{"key": "A", "value": "1"}}})
	tool, err := e.gate.Registry.Lookup(NameCreateConfigMap)
	if err != nil {
		t.Fatal(err)
	}
	action, err := tool.Prepare(t.Context(), []byte(`{"name":"app","data":[{"key":"A","value":"2"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cm := e.configMap(t, "app")
	cm.Data["A"] = "someone-else"
	if _, err := e.Client.CoreV1().ConfigMaps(e.Namespace).Update(t.Context(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("Run error = %v, want ErrConflict", err)
	}
	if got := e.configMap(t, "app").Data["A"]; got != "someone-else" {
		t.Errorf("A = %q, want the other writer's value kept", got)
	}
}

func TestCreateConfigMapBadInput(t *testing.T) {
	t.Parallel()
	e := newConfigEnv(t)
	for _, tc := range []struct{ name, args string }{
		{"bad key", `{"name":"c","data":[{"key":"a b","value":"1"}]}`},
		{"dot key", `{"name":"c","data":[{"key":"..","value":"1"}]}`},
		{"duplicate key", `{"name":"c","data":[{"key":"a","value":"1"},{"key":"a","value":"2"}]}`},
		{"no data", `{"name":"c","data":[]}`},
		{"from for the model", `{"name":"c","data":[{"key":"a","from":"file"}]}`},
		{"bad name", `{"name":"-c","data":[{"key":"a","value":"1"}]}`},
	} {
		rec := e.gate.Call(t.Context(), NameCreateConfigMap, []byte(tc.args))
		if !errors.Is(rec.Err(), tools.ErrInvalidArgs) || rec.Preview != nil {
			t.Errorf("%s: err %v preview %+v, want ErrInvalidArgs", tc.name, rec.Err(), rec.Preview)
		}
	}
	l, err := e.Client.CoreV1().ConfigMaps(e.Namespace).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range l.Items {
		if cm.Name == "c" || cm.Name == "-c" {
			t.Errorf("configmap %s was created from bad input", cm.Name)
		}
	}
}

// A ConfigMap value from a file goes to the tool directly, so values larger
// than a model's arguments can hold still fit.
func TestCreateConfigMapFromValues(t *testing.T) {
	t.Parallel()
	e := newConfigEnv(t)
	big := strings.Repeat("x", 100<<10)
	reg := tools.NewRegistry(CreateConfigMap(e.c, WithValues(map[string][]byte{"big.conf": []byte(big)})))
	gate := &tools.Gate{Registry: reg, Approver: e.policy, Scope: tools.Scope{Namespace: e.Namespace}}
	rec := gate.Call(t.Context(), NameCreateConfigMap, []byte(`{"name":"files","data":[{"key":"big.conf","from":"file"},{"key":"mode","value":"on"}]}`))
	if rec.Err() != nil {
		t.Fatal(rec.Err())
	}
	if !strings.Contains(rec.Preview.Diff, "… (102400 bytes)") {
		t.Errorf("preview does not shorten the long value:\n%.300s", rec.Preview.Diff)
	}
	if got := e.configMap(t, "files").Data; got["big.conf"] != big || got["mode"] != "on" {
		t.Errorf("configmap holds %d bytes of big.conf and mode %q", len(got["big.conf"]), got["mode"])
	}
}

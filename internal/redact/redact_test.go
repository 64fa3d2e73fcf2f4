package redact

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const R = Redacted

func TestText(t *testing.T) {
	t.Parallel()
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1c4Zx\nq8bK2+/abc=\n-----END RSA PRIVATE KEY-----"
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	tests := []struct{ name, in, want string }{
		// Token patterns.
		{"private key", "key:\n" + pem + "\nnext", "key:\n" + R + "\nnext"},
		{"private key cut short", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC", R},
		{"jwt", "token " + jwt + " end", "token " + R + " end"},
		{"bearer", "Authorization: Bearer abcdef0123456789xyz", "Authorization: Bearer " + R},
		{"basic", "Authorization: Basic dXNlcjpwYXNzd29yZDEyMzQ=", "Authorization: Basic " + R},
		{"openai key", "key sk-proj-abcdefghijklmnop0123 used", "key " + R + " used"},
		{"github token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked", R + " leaked"},
		{"github fine-grained", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", R},
		{"aws access key", "key AKIAABCDEFGHIJKLMNOP", "key " + R},
		{"aws session key", "ASIAABCDEFGHIJKLMNOP,", R + ","},
		{"slack", "xoxb-1234567890-abcdefghij", R},
		{"gitlab", "glpat-abcdefghijklmnopqrstu", R},
		{"url credentials", "postgres://app:s3cret@db:5432/app", "postgres://app:" + R + "@db:5432/app"},
		{"url credentials, no user", "redis://:s3cretpw@redis:6379/0", "redis://:" + R + "@redis:6379/0"},
		{"url credentials, @ in password", "amqp://u:p@ss@mq/vhost", "amqp://u:" + R + "@mq/vhost"},
		// Key-name rules: "_" is a word character, so \bPASSWORD would miss these.
		{"DB_PASSWORD", "DB_PASSWORD=hunter2 next", "DB_PASSWORD=" + R + " next"},
		{"POSTGRES_PASSWORD", "POSTGRES_PASSWORD: pw1", "POSTGRES_PASSWORD: " + R},
		{"AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "AWS_SECRET_ACCESS_KEY=" + R},
		{"GITHUB_TOKEN", "export GITHUB_TOKEN=abc", "export GITHUB_TOKEN=" + R},
		{"REDIS_PASS", "REDIS_PASS=abc", "REDIS_PASS=" + R},
		{"flag", "--db-password=abc", "--db-password=" + R},
		{"query string", "GET /cb?client_secret=abc&x=1", "GET /cb?client_secret=" + R + "&x=1"},
		{"helm --set", "backend.postgresql.password=pw", "backend.postgresql.password=" + R},
		{"quoted value", `DB_PASSWORD="two words"`, `DB_PASSWORD="` + R + `"`},
		{"json", `{"password": "x y", "user": "bob"}`, `{"password": "` + R + `", "user": "bob"}`},
		{"json api key", `{"api_key":"abc123def"}`, `{"api_key":"` + R + `"}`},
		{"json number", `{"pin_password": 12345}`, `{"pin_password": ` + R + `}`},
		{"escaped json", `{\"apiKey\": \"abc\"}`, `{\"apiKey\": \"` + R + `\"}`},
		{"yaml", "data:\n  password: pw\n  user: bob", "data:\n  password: " + R + "\n  user: bob"},
		{"yaml tls.key", "tls.key: LS0tLS1CRUdJTg==", "tls.key: " + R},
		{"env pair yaml", "env:\n- name: DB_PASSWORD\n  value: pw1\n- name: MODE\n  value: prod", "env:\n- name: DB_PASSWORD\n  value: " + R + "\n- name: MODE\n  value: prod"},
		{"env pair in a diff", "+        - name: API_TOKEN\n+          value: \"abc\"", "+        - name: API_TOKEN\n+          value: " + R},
		{"env pair json", `[{"name":"API_TOKEN","value":"abc"},{"name":"MODE","value":"prod"}]`, `[{"name":"API_TOKEN","value":"` + R + `"},{"name":"MODE","value":"prod"}]`},
		{"configmap pair json", `{"key": "DB_PASSWORD", "value": "abc"}`, `{"key": "DB_PASSWORD", "value": "` + R + `"}`},
		// Left alone.
		{"evidence names keys only", `env DB_PASSWORD of container app → Secret "db" key "password": Secret "db" does not exist`, `env DB_PASSWORD of container app → Secret "db" key "password": Secret "db" does not exist`},
		{"prose", "Basic authentication failed for user bob", "Basic authentication failed for user bob"},
		{"names that end otherwise", "secretName: db-creds, max_tokens=100, passwordSecretRef: x, tokenTTL=5", "secretName: db-creds, max_tokens=100, passwordSecretRef: x, tokenTTL=5"},
		{"placeholder", "set password=<value> or DB_PASSWORD=${DB_PASSWORD}", "set password=<value> or DB_PASSWORD=${DB_PASSWORD}"},
		{"helm preview marker", "OPENAI_API_KEY: (redacted, changed)", "OPENAI_API_KEY: (redacted, changed)"},
		{"url without password", "https://example.com:8443/path?q=1", "https://example.com:8443/path?q=1"},
		{"empty value", "password:\n  next: 1", "password:\n  next: 1"},
		{"boolean", "automountServiceAccountToken: false", "automountServiceAccountToken: false"},
		{"timestamps and urls", "at 10:00:01 GET https://api/x?a=b", "at 10:00:01 GET https://api/x?a=b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Text(tc.in)
			if got != tc.want {
				t.Errorf("Text(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if again := Text(got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestSecretKey(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]bool{
		"DB_PASSWORD": true, "password": true, "apiKey": true, "api-key": true, "x-api-key": true,
		"GITHUB_TOKEN": true, "AWS_SECRET_ACCESS_KEY": true, "clientSecret": true, "tls.key": true,
		"ssh-privatekey": true, "credentials": true, "REDIS_PASS": true, "debug/password": true,
		"secretName": false, "secretKeyRef": false, "max_tokens": false, "promptTokens": false, "key": false,
		"name": false, "passwordSecretRef": false, "tokenExpirationSeconds": false, "bypass": false, "username": false,
	} {
		if got := SecretKey(k); got != want {
			t.Errorf("SecretKey(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestNeedles(t *testing.T) {
	t.Parallel()
	const v = `p<a>ss"word-12345`
	r := New(nil, nil)
	r.AddValues(v, "line-one-of-a-cert-abcdef\nline-two-of-a-cert-ghijkl\n-----END CERTIFICATE-----\nshort")
	escaped, _ := json.Marshal(v)
	tests := []struct{ name, in, want string }{
		{"raw", "got " + v + "!", "got " + R + "!"},
		{"base64", "b64 " + base64.StdEncoding.EncodeToString([]byte(v)), "b64 " + R},
		{"base64 unpadded", "b64 " + base64.RawStdEncoding.EncodeToString([]byte(v)) + ".", "b64 " + R + "."},
		{"json escaped", `{"v":` + string(escaped) + `}`, `{"v":"` + R + `"}`},
		{"json escaped, no html escaping", `"p<a>ss\"word-12345"`, `"` + R + `"`},
		{"one line of a multi-line value", "saw line-two-of-a-cert-ghijkl", "saw " + R},
		{"PEM armour and short lines are not needles", "-----END CERTIFICATE-----\nshort", "-----END CERTIFICATE-----\nshort"},
	}
	for _, tc := range tests {
		if got := r.Redact(tc.in); got != tc.want {
			t.Errorf("%s: Redact(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// TestNoOverRedaction: short Secret values and non-secret keys are not
// needles, so ordinary words, namespace names and ports survive.
func TestNoOverRedaction(t *testing.T) {
	t.Parallel()
	r := New(nil, nil)
	r.AddSecret(&corev1.Secret{Type: corev1.SecretTypeServiceAccountToken, Data: map[string][]byte{
		"namespace": []byte("todo-production"), "ca.crt": []byte("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIRAJexample\n-----END CERTIFICATE-----"),
		"token": []byte("sa-token-value-0123456789"),
	}})
	r.AddSecret(&corev1.Secret{Data: map[string][]byte{
		"password": []byte("todo"), "user": []byte("admin"), "port": []byte("5432"), "username": []byte("postgres-admin"),
		"host": []byte("db.todo.svc.cluster.local"), "mode": []byte("true"),
	}})
	r.AddSecret(&corev1.Secret{Type: "helm.sh/release.v1", Data: map[string][]byte{"release": []byte("H4sIAAAAAAAC/release-payload")}})
	keep := "namespace todo-production: todo list for admin (postgres-admin) on db.todo.svc.cluster.local:5432, mode true; " +
		"MIIBszCCAVmgAwIBAgIRAJexample; H4sIAAAAAAAC/release-payload"
	if got := r.Redact(keep); got != keep {
		t.Errorf("Redact changed ordinary text:\n got %q\nwant %q", got, keep)
	}
	if got := r.Redact("token sa-token-value-0123456789"); got != "token "+R {
		t.Errorf("the ServiceAccount token itself = %q, want redacted", got)
	}
}

// TestLongSecretRedactedBeforeTruncation: a 20 KiB value is removed whole
// when the text is redacted first and cut afterwards.
func TestLongSecretRedactedBeforeTruncation(t *testing.T) {
	t.Parallel()
	long := longValue(20 << 10)
	r := New(nil, nil)
	r.AddValues(long)
	out := Truncate(r.Redact("config loaded: "+long+" done"), 8<<10)
	if out != "config loaded: "+R+" done" {
		t.Errorf("redact-then-truncate = %.120q…", out)
	}
	assertNoFragment(t, out, long, MinNeedleLen)
}

// TestFragmentsOfTruncatedValues: a tool that cut a long value before the
// redactor saw it (a ConfigMap value shown to 512 bytes, a log tail) leaves
// at most fragmentLen-1 bytes of it at the cut.
func TestFragmentsOfTruncatedValues(t *testing.T) {
	t.Parallel()
	long := longValue(20 << 10)
	r := New(nil, nil)
	r.AddValues(long)
	prefix := "value: " + long[:517] + "… (19963 bytes more)"
	suffix := long[len(long)-1000+3:] + "\nnext line"
	for name, in := range map[string]string{"prefix": prefix, "suffix": suffix} {
		out := r.Redact(in)
		if !strings.Contains(out, R) || strings.Count(out, R) != 1 {
			t.Errorf("%s: %d markers in %.200q, want one (fragments collapsed)", name, strings.Count(out, R), out)
		}
		assertNoFragment(t, out, long, fragmentLen)
	}
}

func longValue(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%08x", uint32(i)*2654435761)
	}
	return b.String()[:n]
}

// assertNoFragment fails if out holds any n-byte piece of secret.
func assertNoFragment(t *testing.T, out, secret string, n int) {
	t.Helper()
	for i := 0; i+n <= len(secret); i++ {
		if strings.Contains(out, secret[i:i+n]) {
			t.Fatalf("output holds %d bytes of the secret at offset %d: %.200q", n, i, out)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"}, // é is 2 bytes: not split
		{"héllo", 3, "hé"},
		{"日本語", 4, "日"},
		{"🙂x", 3, ""},
		{"abc", 0, ""},
		{"abc", -1, ""},
	}
	for _, tc := range tests {
		got := Truncate(tc.in, tc.max)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestRedactJSON(t *testing.T) {
	t.Parallel()
	r := New(nil, nil)
	r.AddValues("needle-value-123")
	tests := []struct{ name, in, want string }{
		{"env entry", `{"env":[{"name":"DB_PASSWORD","value":"x"},{"name":"MODE","value":"prod"}]}`,
			`{"env":[{"name":"DB_PASSWORD","value":"` + R + `"},{"name":"MODE","value":"prod"}]}`},
		{"configmap key entry", `{"keys":[{"key":"password","bytes":1,"value":"x"},{"key":"mode","bytes":4,"value":"prod"}]}`,
			`{"keys":[{"key":"password","bytes":1,"value":"` + R + `"},{"key":"mode","bytes":4,"value":"prod"}]}`},
		{"value before name", `{"value":"x","name":"API_TOKEN"}`, `{"value":"` + R + `","name":"API_TOKEN"}`},
		{"data map", `{"data":{"password":"x","POSTGRES_PASSWORD":"y","host":"db"}}`, `{"data":{"password":"` + R + `","POSTGRES_PASSWORD":"` + R + `","host":"db"}}`},
		{"annotation", `{"annotations":{"debug/password":"x"}}`, `{"annotations":{"debug/password":"` + R + `"}}`},
		{"number under a secret key", `{"pin_password":1234,"replicas":3}`, `{"pin_password":"` + R + `","replicas":3}`},
		{"secret section walked, not dropped", `{"secret":{"type":"Opaque","keys":[{"key":"password","bytes":8}]}}`, `{"secret":{"type":"Opaque","keys":[{"key":"password","bytes":8}]}}`},
		{"names of secrets kept", `{"secretName":"db-creds","automountServiceAccountToken":false,"token":null}`, `{"secretName":"db-creds","automountServiceAccountToken":false,"token":null}`},
		{"strings go through Redact", `{"log":"DB_PASSWORD=x and needle-value-123","url":"postgres://u:pw@db/app"}`,
			`{"log":"DB_PASSWORD=` + R + ` and ` + R + `","url":"postgres://u:` + R + `@db/app"}`},
		{"multi-line string", `{"preview":"- name: DB_PASSWORD\n  value: x"}`, `{"preview":"- name: DB_PASSWORD\n  value: ` + R + `"}`},
		{"order, numbers and html kept", `{"z":1.50,"a":"<b>&","m":[true,null]}`, `{"z":1.50,"a":"<b>&","m":[true,null]}`},
		{"not json: redacted as text", `password=x {`, `password=` + R + ` {`},
	}
	for _, tc := range tests {
		if got := string(r.RedactJSON([]byte(tc.in))); got != tc.want {
			t.Errorf("%s: RedactJSON(%s)\n got %s\nwant %s", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestMaskArgs(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"helm --set", `{"release":"todo","values_set":["backend.replicaCount=2","postgresql.password=hunter2"]}`,
			`{"release":"todo","values_set":["backend.replicaCount=2","postgresql.password=` + R + `"]}`},
		{"secret key", `{"name":"backend","password":"x"}`, `{"name":"backend","password":"` + R + `"}`},
		{"plain args unchanged", `{"name":"backend","namespace":"todo","replicas":3}`, `{"name":"backend","namespace":"todo","replicas":3}`},
		{"not json", `{"password": "x"`, `"{\"password\": \"` + R + `\""`},
		{"empty", ``, ``},
	}
	for _, tc := range tests {
		got := string(MaskArgs(json.RawMessage(tc.in)))
		if got != tc.want {
			t.Errorf("%s: MaskArgs(%s)\n got %s\nwant %s", tc.name, tc.in, got, tc.want)
		}
		if got != "" && !json.Valid([]byte(got)) {
			t.Errorf("%s: MaskArgs returned invalid JSON %s", tc.name, got)
		}
	}
}

// TestLoadNamespace pages through the Secrets, asks the server to leave
// Helm release payloads out, skips them anyway, and reads a namespace once.
func TestLoadNamespace(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	var lists []metav1.ListOptions
	pages := map[string]*corev1.SecretList{
		"": {ListMeta: metav1.ListMeta{Continue: "p2"}, Items: []corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Data: map[string][]byte{"password": []byte("page-one-secret")}},
		}},
		"p2": {Items: []corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Data: map[string][]byte{"token": []byte("page-two-secret")}},
			{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.x.v1"}, Type: "helm.sh/release.v1", Data: map[string][]byte{"release": []byte("helm-release-payload")}},
		}},
	}
	client.PrependReactor("list", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		opts := a.(k8stesting.ListActionImpl).ListOptions
		lists = append(lists, opts)
		return true, pages[opts.Continue], nil
	})
	r := New(client, nil)
	for range 2 {
		if err := r.LoadNamespace(context.Background(), "todo"); err != nil {
			t.Fatal(err)
		}
	}
	if len(lists) != 2 {
		t.Fatalf("%d LIST calls, want 2 (two pages, namespace read once)", len(lists))
	}
	for _, o := range lists {
		if o.Limit != pageSize || o.FieldSelector != "type!=helm.sh/release.v1" {
			t.Errorf("list options %+v, want limit %d and Helm releases left out", o, pageSize)
		}
	}
	if got := r.Redact("page-one-secret page-two-secret helm-release-payload"); got != R+" "+R+" helm-release-payload" {
		t.Errorf("Redact = %q", got)
	}
}

func TestNeedleCaps(t *testing.T) {
	t.Parallel()
	r := New(nil, nil)
	for i := range maxNeedles {
		r.AddValues(fmt.Sprintf("value-%08d", i))
	}
	if len(r.needles) > maxNeedles || r.bytes > maxNeedleBytes || !r.full {
		t.Errorf("%d needles, %d bytes, full=%v: want capped at %d", len(r.needles), r.bytes, r.full, maxNeedles)
	}
	// Patterns still apply once the cap is reached.
	if got := r.Redact("DB_PASSWORD=x"); got != "DB_PASSWORD="+R {
		t.Errorf("Redact after the cap = %q", got)
	}
	r2 := New(nil, nil)
	r2.AddValues(strings.Repeat("x", maxValueLen+1) + "-tail") // fragments only
	if r2.bytes > maxValueLen+64 {
		t.Errorf("an oversized value took %d bytes of needles", r2.bytes)
	}
}

func BenchmarkRedactShort(b *testing.B) {
	r := New(nil, nil)
	for i := range 200 {
		r.AddValues(fmt.Sprintf("secret-value-%04d", i))
	}
	s := `container app: waiting: CrashLoopBackOff (back-off 5m0s restarting failed container app in pod todo/backend-7d9f)`
	for b.Loop() {
		r.Redact(s)
	}
}

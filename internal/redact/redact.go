// Package redact removes secrets from text before it reaches a model or a
// person's screen. It is the one implementation every such path uses: the
// agent's tool results, diagnose's reports and explanations, the text
// `diagnose --explain` sends, and the tool arguments shown in approval
// prompts, the audit log and -o json (MaskArgs).
//
// Four passes, each catching what the others cannot:
//
//   - needles: the values of the cluster's Secrets (read per namespace,
//     lazily, see LoadNamespace), with their base64 and JSON-escaped forms,
//     the long lines of multi-line values and fragments of long ones;
//   - token patterns: credentials whatever Secret they came from (private
//     keys, JWTs, bearer/basic credentials, OpenAI/GitHub/AWS/Slack/GitLab
//     keys, passwords in URLs);
//   - key-name rules: `DB_PASSWORD=x`, `password: x`, `"api_key": "x"`, and
//     an env entry's or ConfigMap entry's name/value pair on two lines;
//   - a structured pass over JSON (RedactJSON): the value of any field whose
//     key looks secret, or of a {"name"|"key": …, "value": …} entry whose
//     name does.
//
// What is redacted is cluster-derived text only: tool results, reports,
// logs, events. The system prompt, the user's request and the model's own
// tool-call arguments are never rewritten with needles — a Secret value that
// happens to be an ordinary word would otherwise change what the user asked
// ("Default namespace: [REDACTED]") and break the loop. Arguments shown to
// people go through MaskArgs, which masks by key name and pattern only.
//
// Redact before truncating: a value cut in two no longer matches its needle.
// Truncate is the rune-safe cut to use afterwards. docs/redaction.md
// explains the thresholds.
package redact

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/opsagent/opsagent/internal/kube"
)

// Redacted stands in for every removed value (the system prompt tells the
// model what it means).
const Redacted = "[REDACTED]"

// Thresholds for needles. docs/redaction.md gives the reasoning at length.
const (
	// MinNeedleLen: a Secret value shorter than 8 bytes is not searched for.
	// Short values are ordinary words and numbers — a ServiceAccount token
	// Secret's namespace ("todo"), "admin", a port ("5432"), "true" — and
	// replacing them everywhere rewrites unrelated text (namespace names,
	// ports, log words) until the output is useless. Short passwords are
	// still caught where they are shown next to their name (DB_PASSWORD=x,
	// "password": "x", a ConfigMap key "password") by the key-name rules.
	MinNeedleLen = 8
	// minLineLen: the lines of a multi-line value (PEM bodies, config files)
	// are needles on their own when at least this long, in case only part of
	// the value is shown; shorter lines ("}", "  enabled: true") are common
	// text.
	minLineLen = 16
	// maxValueLen: longer values are searched for by their lines and
	// fragments only, not whole.
	maxValueLen = 64 << 10
	// fragmentLen: a value (or line) longer than 2*fragmentLen is also cut
	// into fragmentLen-byte pieces, each a needle, so that a value some tool
	// truncated before it reached the redactor still has all but at most
	// fragmentLen-1 bytes at the cut removed.
	fragmentLen = 32
	// maxNeedles and maxNeedleBytes bound the memory the needles take (a
	// cluster-wide read can meet many Secrets). Past them no more values are
	// added; the patterns and key rules still apply.
	maxNeedles     = 50_000
	maxNeedleBytes = 8 << 20
	// pageSize is how many Secrets one LIST returns.
	pageSize = 250
)

// helmReleaseType is the type of the Secrets Helm stores releases in: a
// gzipped manifest per revision, large, and never shown by any tool.
const helmReleaseType corev1.SecretType = "helm.sh/release.v1"

// nonSecretKeys are Secret keys whose values are not secret: a
// ServiceAccount token Secret's namespace and CA certificate, a TLS Secret's
// certificate, and the connection details stored beside a password. As
// needles they would blank out namespace names, host names and user names.
var nonSecretKeys = map[string]bool{
	"namespace": true, "ca.crt": true, "tls.crt": true, "service-ca.crt": true,
	"username": true, "user": true, "host": true, "hostname": true, "port": true,
	"database": true, "dbname": true,
}

// Redactor removes secrets from text. Make one with New; a nil *Redactor
// applies the patterns and key-name rules only. It is safe for concurrent
// use.
type Redactor struct {
	client kubernetes.Interface
	log    *slog.Logger

	loadMu sync.Mutex // one LoadNamespace at a time

	mu       sync.Mutex
	loaded   map[string]bool // namespaces whose Secrets were read; "" = all
	needles  map[string]struct{}
	bytes    int
	full     bool // a cap was reached; further values are dropped
	replacer *strings.Replacer
}

// New returns a Redactor that reads Secrets with client when asked to
// (LoadNamespace); client may be nil. log may be nil.
func New(client kubernetes.Interface, log *slog.Logger) *Redactor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Redactor{client: client, log: log}
}

// AddValues makes the redactor remove these values (and their forms), e.g.
// the model API key. Values shorter than MinNeedleLen are ignored.
func (r *Redactor) AddValues(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		r.addLocked(v)
	}
}

// AddSecret adds the values of one Secret, except those that are not
// secret: Helm release payloads and nonSecretKeys.
func (r *Redactor) AddSecret(s *corev1.Secret) {
	if s.Type == helmReleaseType {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range s.Data {
		if !nonSecretKeys[k] {
			r.addLocked(string(v))
		}
	}
	for k, v := range s.StringData {
		if !nonSecretKeys[k] {
			r.addLocked(v)
		}
	}
}

// LoadNamespace reads the Secrets of namespace ns ("" = all namespaces) the
// first time it is asked for, a page at a time, and removes their values
// from then on. Helm release Secrets are not transferred. When the Secrets
// cannot be read (RBAC), the error is logged and returned and the patterns
// and key rules still apply; the namespace is not tried again.
func (r *Redactor) LoadNamespace(ctx context.Context, ns string) error {
	if r == nil || r.client == nil {
		return nil
	}
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	r.mu.Lock()
	done := r.loaded[ns] || r.loaded[""] || r.full
	r.mu.Unlock()
	if done {
		return nil
	}
	defer func() { // also after a failure: do not retry on every step
		r.mu.Lock()
		if r.loaded == nil {
			r.loaded = map[string]bool{}
		}
		r.loaded[ns] = true
		r.mu.Unlock()
	}()
	where := "namespace " + ns
	if ns == "" {
		where = "all namespaces"
	}
	opts := metav1.ListOptions{FieldSelector: "type!=" + string(helmReleaseType)}
	n := 0
	err := kube.EachListItem(ctx, pageSize, opts, r.client.CoreV1().Secrets(ns).List, func(sec *corev1.Secret) bool {
		r.AddSecret(sec)
		n++
		return !r.isFull()
	})
	if err != nil {
		if apierrors.IsForbidden(err) {
			r.log.Warn("cannot read Secrets to redact their values; only patterns and key names are redacted", "where", where, "err", err)
		} else {
			r.log.Warn("listing Secrets to redact them failed", "where", where, "err", err)
		}
		return fmt.Errorf("read Secrets in %s for redaction: %w", where, err)
	}
	r.log.Debug("Secret values loaded for redaction", "where", where, "secrets", n)
	return nil
}

func (r *Redactor) isFull() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.full
}

// addLocked adds v's needles: v itself, its base64 forms, its JSON-escaped
// forms, its long lines and its fragments.
func (r *Redactor) addLocked(v string) {
	v = strings.TrimSpace(v)
	if len(v) < MinNeedleLen || !utf8.ValidString(v) {
		return
	}
	var forms []string
	if len(v) <= maxValueLen {
		forms = append(forms, v, base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)))
		forms = append(forms, jsonEscaped(v, true), jsonEscaped(v, false))
	}
	pieces := []string{v}
	if strings.Contains(v, "\n") {
		pieces = pieces[:0]
		for line := range strings.Lines(v) {
			line = strings.TrimSpace(line)
			if len(line) >= minLineLen && !strings.HasPrefix(line, "-----") { // PEM armour is not secret
				pieces = append(pieces, line)
			}
		}
		forms = append(forms, pieces...)
	}
	for _, p := range pieces {
		forms = append(forms, fragments(p)...)
	}
	for _, f := range forms {
		if len(f) < MinNeedleLen {
			continue
		}
		if _, ok := r.needles[f]; ok {
			continue
		}
		if len(r.needles) >= maxNeedles || r.bytes+len(f) > maxNeedleBytes {
			if !r.full {
				r.full = true
				r.log.Warn("too many Secret values to redact them all by value; patterns and key names still apply",
					"needles", len(r.needles), "bytes", r.bytes)
			}
			return
		}
		if r.needles == nil {
			r.needles = map[string]struct{}{}
		}
		r.needles[f] = struct{}{}
		r.bytes += len(f)
		r.replacer = nil
	}
}

// jsonEscaped is v as it appears inside a JSON string.
func jsonEscaped(v string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(v)
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(b.String(), `"`), "\n"), `"`)
}

// fragments cuts a long single line into fragmentLen-byte needles (rune
// boundaries respected); the last piece joins the one before it.
func fragments(s string) []string {
	if len(s) <= 2*fragmentLen {
		return nil
	}
	var out []string
	for len(s) >= 2*fragmentLen {
		n := fragmentLen
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n++
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// Redact returns s with every known Secret value, token pattern and
// secret-looking key's value replaced by Redacted. Use it on text that came
// from the cluster, never on the user's request or the model's arguments.
func (r *Redactor) Redact(s string) string {
	if s == "" {
		return s
	}
	if rep := r.currentReplacer(); rep != nil {
		s = rep.Replace(s)
	}
	return collapse(applyRules(s))
}

// Text redacts s with the patterns and key-name rules only (no cluster
// values): for text that may hold tokens but no Secret was read for.
func Text(s string) string { return (*Redactor)(nil).Redact(s) }

func (r *Redactor) currentReplacer() *strings.Replacer {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.replacer != nil || len(r.needles) == 0 {
		return r.replacer
	}
	// strings.Replacer tries needles in argument order at each position:
	// longest first, so a value is replaced whole rather than in fragments.
	needles := make([]string, 0, len(r.needles))
	for n := range r.needles {
		needles = append(needles, n)
	}
	slices.SortFunc(needles, func(a, b string) int {
		if d := len(b) - len(a); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(needles))
	for _, n := range needles {
		pairs = append(pairs, n, Redacted)
	}
	r.replacer = strings.NewReplacer(pairs...)
	return r.replacer
}

// collapse turns runs of markers (a value removed fragment by fragment)
// into one.
func collapse(s string) string {
	const twice = Redacted + Redacted
	for strings.Contains(s, twice) {
		s = strings.ReplaceAll(s, twice, Redacted)
	}
	return s
}

// Truncate cuts s to at most max bytes without splitting a UTF-8 sequence.
// Redact first: a cut value no longer matches its needle whole.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

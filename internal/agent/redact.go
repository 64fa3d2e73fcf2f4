package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Redacted replaces every secret value in text sent to the model.
const Redacted = "[REDACTED]"

const (
	// minSecretLen: shorter values ("1", "yes") would redact ordinary words.
	minSecretLen = 4
	// maxSecretLen bounds the values kept as needles (Helm release Secrets
	// hold whole compressed manifests).
	maxSecretLen = 64 << 10
	// minSecretLineLen: lines of multi-line values (PEM keys) that are long
	// enough to be redacted on their own, in case only part of a value leaks.
	minSecretLineLen = 16
)

// tokenPatterns match credentials whatever Secret they come from.
var tokenPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`), Redacted},
	{regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{16,}`), Redacted},
	{regexp.MustCompile(`(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}`), "$1 " + Redacted},
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`), Redacted},
	{regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{30,}`), Redacted},
	{regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`), Redacted},
	{regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`), Redacted},
	{regexp.MustCompile(`(?i)\b((?:password|passwd|secret|token|api[_-]?key)(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?)[^\s"',;}{\]\\]{4,}`), "${1}" + Redacted},
}

// Redactor removes secret values from text before it is sent to the model:
// the values of the Secrets in the namespaces in play (and their base64 and
// JSON-escaped forms), values added with AddValues, and token-like patterns.
// It is safe for concurrent use.
type Redactor struct {
	client kubernetes.Interface
	log    *slog.Logger

	mu       sync.Mutex
	loaded   map[string]bool // namespaces whose Secrets were read; "" = all
	needles  map[string]bool
	replacer *strings.Replacer
}

// NewRedactor returns a redactor that reads Secrets with client (nil: only
// AddValues and the token patterns apply).
func NewRedactor(client kubernetes.Interface, log *slog.Logger) *Redactor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Redactor{client: client, log: log, loaded: map[string]bool{}, needles: map[string]bool{}}
}

// AddValues makes the redactor replace these values (and their encodings).
func (r *Redactor) AddValues(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		r.addLocked(v)
	}
	r.replacer = nil
}

// LoadNamespace reads the Secrets of namespace ns ("" = all namespaces) once
// and redacts their values from then on. When RBAC forbids it, the error is
// logged and returned; the token patterns still apply.
func (r *Redactor) LoadNamespace(ctx context.Context, ns string) error {
	if r.client == nil {
		return nil
	}
	r.mu.Lock()
	done := r.loaded[ns] || r.loaded[""]
	r.mu.Unlock()
	if done {
		return nil
	}
	list, err := r.client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		where := "namespace " + ns
		if ns == "" {
			where = "all namespaces"
		}
		if apierrors.IsForbidden(err) {
			r.log.Warn("cannot read Secrets to redact them; only token patterns are redacted from what the model sees",
				"where", where, "err", err)
		} else {
			r.log.Warn("listing Secrets to redact them failed", "where", where, "err", err)
		}
		r.mu.Lock()
		r.loaded[ns] = true // do not retry on every step
		r.mu.Unlock()
		return fmt.Errorf("read Secrets in %s for redaction: %w", where, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range list.Items {
		for _, v := range s.Data {
			r.addLocked(string(v))
		}
		for _, v := range s.StringData {
			r.addLocked(v)
		}
	}
	r.loaded[ns] = true
	r.replacer = nil
	r.log.Debug("secret values loaded for redaction", "namespace", ns, "secrets", len(list.Items))
	return nil
}

func (r *Redactor) addLocked(v string) {
	if len(v) < minSecretLen || len(v) > maxSecretLen {
		return
	}
	forms := []string{v, base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v))}
	if b, err := json.Marshal(v); err == nil {
		forms = append(forms, strings.Trim(string(b), `"`))
	}
	if strings.Contains(v, "\n") {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); len(line) >= minSecretLineLen {
				forms = append(forms, line)
			}
		}
	}
	for _, f := range forms {
		if len(f) >= minSecretLen {
			r.needles[f] = true
		}
	}
}

// Redact returns s with every known secret value and token pattern replaced
// by [REDACTED].
func (r *Redactor) Redact(s string) string {
	if s == "" {
		return s
	}
	if rep := r.currentReplacer(); rep != nil {
		s = rep.Replace(s)
	}
	for _, p := range tokenPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

func (r *Redactor) currentReplacer() *strings.Replacer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.replacer != nil || len(r.needles) == 0 {
		return r.replacer
	}
	needles := make([]string, 0, len(r.needles))
	for n := range r.needles {
		needles = append(needles, n)
	}
	// strings.Replacer tries needles in argument order at each position:
	// longest first, so a value is replaced whole rather than a part of it.
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

// namespacesIn returns the namespaces a tool call's arguments name: its
// "namespace" argument, and "" when "all_namespaces" is true.
func namespacesIn(args json.RawMessage) []string {
	var a struct {
		Namespace     string `json:"namespace"`
		AllNamespaces bool   `json:"all_namespaces"`
	}
	if err := json.Unmarshal(args, &a); err != nil {
		return nil
	}
	var out []string
	if a.Namespace != "" {
		out = append(out, a.Namespace)
	}
	if a.AllNamespaces {
		out = append(out, "")
	}
	return out
}

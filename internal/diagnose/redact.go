package diagnose

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redacted stands in for a Secret value or token (the same marker the rest of
// opsagent and its system prompt use).
const Redacted = "[REDACTED]"

// Bounds on the Secret values the redactor looks for. Shorter values
// ("true", "admin") would blank out ordinary words; longer ones are files
// (certificates, configs) whose lines are added one by one instead.
const (
	minSecretLen    = 6
	maxSecretLen    = 4096
	maxSecretValues = 20000
)

// secretKeys are key names whose values are credentials.
const secretKeys = `[a-z_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)`

// tokenPatterns find credentials whatever Secret they came from: bearer
// tokens, JWTs, key=value pairs with a secret-sounding key, private keys,
// credentials in URLs and well-known API key formats.
var tokenPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)`), Redacted},
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}`), Redacted},
	{regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/-]{16,}=*`), "${1}${2}" + Redacted},
	// password=x, PASSWORD: x (the key unquoted) ...
	{regexp.MustCompile(`(?i)\b((?:` + secretKeys + `)\s*[:=]\s*)([^\s"',;&]+)`), "${1}" + Redacted},
	// ... and "password": "x" (JSON, YAML with quotes).
	{regexp.MustCompile(`(?i)(["'](?:` + secretKeys + `)["']\s*:\s*["'])([^"']+)`), "${1}" + Redacted},
	{regexp.MustCompile(`(://[^/\s:@]+:)[^/\s@]+@`), "${1}" + Redacted + "@"},
	{regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`), Redacted},
	{regexp.MustCompile(`\b(sk-[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,})`), Redacted},
}

// RedactText removes tokens and credentials that look like ones (see
// tokenPatterns) from s. Values of the cluster's Secrets are removed by the
// diagnosis itself, which has read them; this is the part that needs no
// cluster.
func RedactText(s string) string {
	for _, p := range tokenPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// redactor removes the values of the Secrets in the snapshot, and tokens,
// from text shown to people or sent to a model.
type redactor struct {
	values   []string
	replacer *strings.Replacer
}

func newRedactor() *redactor { return &redactor{} }

func (r *redactor) addSecret(v []byte) {
	if len(r.values) >= maxSecretValues || len(v) < minSecretLen || !utf8.Valid(v) {
		return
	}
	s := string(v)
	if len(s) <= maxSecretLen && !strings.Contains(s, "\n") {
		r.values = append(r.values, strings.TrimSpace(s))
		return
	}
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); len(line) >= minSecretLen+2 && len(line) <= maxSecretLen {
			r.values = append(r.values, line)
		}
	}
}

// build prepares the replacer. Longer values go first so that a value that
// contains another is replaced whole.
func (r *redactor) build() {
	r.values = slices.DeleteFunc(r.values, func(v string) bool { return len(v) < minSecretLen })
	slices.SortFunc(r.values, func(a, b string) int { return len(b) - len(a) })
	r.values = slices.Compact(r.values)
	if len(r.values) == 0 {
		return
	}
	pairs := make([]string, 0, 2*len(r.values))
	for _, v := range r.values {
		pairs = append(pairs, v, Redacted)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

func (r *redactor) redact(s string) string {
	if s == "" {
		return s
	}
	if r != nil && r.replacer != nil {
		s = r.replacer.Replace(s)
	}
	return RedactText(s)
}

// redactFinding redacts the free-text fields of a finding in place.
func (r *redactor) redactFinding(f *Finding) {
	f.Summary = r.redact(f.Summary)
	f.Cause = r.redact(f.Cause)
	for i := range f.Evidence.Status {
		f.Evidence.Status[i] = r.redact(f.Evidence.Status[i])
	}
	for i := range f.Evidence.Events {
		f.Evidence.Events[i].Message = r.redact(f.Evidence.Events[i].Message)
	}
	if l := f.Evidence.Logs; l != nil {
		for i := range l.Lines {
			l.Lines[i] = r.redact(l.Lines[i])
		}
		l.Error = r.redact(l.Error)
	}
	// Fixes are built from names, never from values, and their placeholders
	// ("password=<value>") must stay readable.
}

package redact

import (
	"regexp"
	"strings"
	"sync"
)

// secretSuffixes are how a secret-looking key name ends: DB_PASSWORD,
// api-key, clientSecret, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, tls.key,
// REDIS_PASS. A key is judged by its end so that secretName, tokenTTL,
// max_tokens and passwordSecretRef are left alone; and by its end alone, not
// by a word boundary before it: "_" is a word character, so a pattern like
// \bPASSWORD never matches inside DB_PASSWORD.
var secretSuffixes = []string{
	"password", "passwd", "passphrase", "pwd", "_pass", "-pass",
	"secret", "token", "credential", "credentials",
	"apikey", "api_key", "api-key", "accesskey", "access_key", "access-key",
	"privatekey", "private_key", "private-key", "secretkey", "secret_key", "secret-key",
	"tls.key", "tls_key", "tls-key",
}

// SecretKey reports whether a key name (an env var, a JSON field, a
// ConfigMap key: DB_PASSWORD, apiKey, tls.key) looks like it holds a
// credential.
func SecretKey(k string) bool {
	for _, suf := range secretSuffixes {
		if len(k) >= len(suf) && strings.EqualFold(k[len(k)-len(suf):], suf) {
			return true
		}
	}
	return false
}

// secretWord is secretSuffixes as a regular expression.
func secretWord() string {
	q := make([]string, len(secretSuffixes))
	for i, s := range secretSuffixes {
		q[i] = regexp.QuoteMeta(s)
	}
	return `(?:` + strings.Join(q, "|") + `)`
}

// keyChars may precede secretWord inside a paired key.
const keyChars = `[A-Za-z0-9_.\-/]*`

// quotedValue is a double-quoted value (JSON, possibly escaped inside
// another JSON string) or a single-quoted one; one of its groups is set.
const quotedValue = `(?:\\?"((?:[^"\\\n]|\\[^"\n])*)|'([^'\n]*))`

// rule is one pattern; groups are the submatches to replace (none: the
// whole match). A rule runs only on text whose lower-case form holds one of
// its hints (and every one of needs): most text holds none, and a literal
// search is far cheaper than a case-insensitive regular expression.
type rule struct {
	name   string
	hints  []string
	needs  []string
	re     *regexp.Regexp
	groups []int
}

// keyHints are literals every secret-looking key holds (lower case).
var keyHints = []string{"pass", "pwd", "secret", "token", "key", "credential"}

// rules are applied in order to every text Redact sees, before the
// key: value scan (maskKeyValues). They are compiled on first use, not at
// start-up: every opsagent command links this package, most never redact
// (`opsagent --help`, `sandbox up`), and compiling them costs about a
// thousand allocations (docs/performance.md).
var rules = sync.OnceValue(func() []rule {
	return []rule{
		// Token patterns: credentials whatever key or Secret they came from.
		{"private key", []string{"private key"}, nil, regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`), nil},
		{"jwt", []string{"eyj"}, nil, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`), nil},
		{"bearer/basic", []string{"bearer", "basic"}, nil, regexp.MustCompile(`(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/-]{16,}=*)`), []int{1}},
		{"url credentials", []string{"://"}, nil, regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"']*:([^/\s"'@]+(?:@[^/\s"'@]+)*)@`), []int{1}},
		{"api key formats", []string{"akia", "asia", "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "glpat-"}, nil,
			regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bsk-[A-Za-z0-9_-]{20,}|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bglpat-[A-Za-z0-9_-]{20,}`), nil},
		// An env entry or ConfigMap entry whose name and value are separate
		// fields: YAML (as in a manifest diff, "+"/"-" prefixes allowed) and
		// JSON text.
		{"name/value pair (YAML)", keyHints, []string{"value"}, regexp.MustCompile(`(?im)^[ \t+\-]*(?:-[ \t]+)?(?:name|key):[ \t]*["']?` + keyChars + secretWord() + `["']?[ \t]*\r?\n[ \t+\-]*value:[ \t]*(\S[^\n]*)$`), []int{1}},
		{"name/value pair (JSON)", keyHints, []string{"value"}, regexp.MustCompile(`(?i)\\?"(?:name|key)\\?"[ \t]*:[ \t]*\\?"` + keyChars + secretWord() + `\\?"[ \t]*,[ \t]*\\?"value\\?"[ \t]*:[ \t]*` + quotedValue), []int{1, 2}},
	}
})

// applyRules runs the patterns, then the key: value scan, over s.
func applyRules(s string) string {
	lower := strings.ToLower(s)
	for _, r := range rules() {
		if !containsAny(lower, r.hints) || !containsAll(lower, r.needs) {
			continue
		}
		if out := r.apply(s); out != s {
			s, lower = out, strings.ToLower(out)
		}
	}
	if containsAny(lower, keyHints) {
		s = maskKeyValues(s)
	}
	return s
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func (r rule) apply(s string) string {
	matches := r.re.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		if len(r.groups) == 0 {
			b.WriteString(s[last:m[0]])
			b.WriteString(Redacted)
			last = m[1]
			continue
		}
		for _, g := range r.groups {
			start, end := m[2*g], m[2*g+1]
			if start < 0 || start == end || placeholder(s[start:end]) {
				continue
			}
			b.WriteString(s[last:start])
			b.WriteString(Redacted)
			last = end
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// maskKeyValues masks the value after every secret-looking key followed by
// ":" or "=": DB_PASSWORD=x, POSTGRES_PASSWORD: x, ?client_secret=x&,
// --db-password=x, DB_PASSWORD="two words", "password": "x" (JSON, also
// escaped inside another JSON string), YAML password: x. A quoted key takes
// a quoted value or a number only, so that evidence such as
// `key "password": Secret "db" does not exist` is left alone. It is a scan
// rather than a regular expression: it runs on every text and a
// case-insensitive pattern with this many alternatives is slow.
func maskKeyValues(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ':' && s[i] != '=' {
			continue
		}
		keyEnd := i
		for keyEnd > 0 && (s[keyEnd-1] == ' ' || s[keyEnd-1] == '\t') {
			keyEnd--
		}
		quoted := keyEnd > 0 && (s[keyEnd-1] == '"' || s[keyEnd-1] == '\'')
		if quoted {
			keyEnd--
			if keyEnd > 0 && s[keyEnd-1] == '\\' {
				keyEnd--
			}
		}
		keyStart := keyEnd
		for keyStart > 0 && isKeyChar(s[keyStart-1]) {
			keyStart--
		}
		if keyStart == keyEnd || !SecretKey(s[keyStart:keyEnd]) {
			continue
		}
		v := i + 1
		for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
			v++
		}
		start, end := valueSpan(s, v, quoted)
		if start == end || placeholder(s[start:end]) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(Redacted)
		last, i = end, end-1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '/'
}

// valueSpan finds the value that starts at v: the inside of a quoted value
// ("…", \"…\" inside JSON, '…'); else, after a quoted key, a number; else
// a run of characters up to white space or a delimiter.
func valueSpan(s string, v int, quotedKey bool) (start, end int) {
	if v >= len(s) {
		return v, v
	}
	switch {
	case s[v] == '"' || s[v] == '\\' && v+1 < len(s) && s[v+1] == '"':
		escaped := s[v] == '\\'
		start = v + 1
		if escaped {
			start++
		}
		j := start
		for j < len(s) && s[j] != '\n' && s[j] != '"' {
			if s[j] == '\\' {
				if escaped && j+1 < len(s) && s[j+1] == '"' {
					break
				}
				j++ // an escaped character
			}
			j++
		}
		return start, min(j, len(s))
	case s[v] == '\'':
		j := v + 1
		for j < len(s) && s[j] != '\'' && s[j] != '\n' {
			j++
		}
		return v + 1, j
	case quotedKey:
		j := v
		if j < len(s) && s[j] == '-' {
			j++
		}
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		if j == v || s[v] == '-' && j == v+1 {
			return v, v
		}
		return v, j
	}
	j := v
	for j < len(s) && !strings.ContainsRune(" \t\r\n\"'\\,;&}]", rune(s[j])) {
		j++
	}
	return v, j
}

// placeholder reports whether a value is a marker rather than a secret:
// already redacted (here or by the Helm preview's "(redacted, changed)"), a
// placeholder ("<value>", "${DB_PASSWORD}", "$(TOKEN)", "****") that fix
// suggestions and templates show, or a boolean or null
// (automountServiceAccountToken: false).
func placeholder(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false", "null", "~":
		return true
	}
	for _, p := range []string{"[REDACTED", "(redacted", "<", "${", "$(", "***"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// Package termsafe makes text from the cluster (names, annotations, events,
// log lines, Helm notes) and from a model safe to print on a terminal.
//
// Two dangers, two tools:
//
//   - Text drops control characters, ANSI escape sequences' ESC included, so
//     a pod name or an event message cannot move the cursor, recolour or
//     rewrite the screen a person reads or approves from.
//   - Quote and Command build the commands we suggest ("kubectl rollout
//     status deployment/x -n y", "helm upgrade …") from such values: each
//     argument is shell-quoted, so a release name taken from an annotation
//     such as `x; rm -rf ~` is printed as one harmless word, never as a
//     second command a person would paste.
//
// Every renderer that writes text for people uses this package; JSON output
// is left as it is (its encoding escapes control characters already).
package termsafe

import (
	"strings"
	"unicode"
)

// Text drops control characters (C0, DEL and C1, so ESC and CSI too) from
// s. Newlines and tabs stay: reports and diffs are multi-line.
func Text(s string) string {
	if isClean(s, true) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !isControl(r) {
			return r
		}
		return -1
	}, s)
}

// Line is Text for a value printed inside one line (a name in a table
// cell, a field after a label): newlines and tabs become spaces too, so a
// value cannot start a line of its own that looks like ours.
func Line(s string) string {
	if isClean(s, false) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case isControl(r):
			return -1
		}
		return r
	}, s)
}

// Quote returns s as one POSIX shell word: unchanged when it holds only
// characters no shell treats specially (Kubernetes names, paths, key=value),
// else in single quotes. Control characters are dropped first, so the
// quoted word also prints safely.
func Quote(s string) string {
	s = Line(s)
	// A leading "=" is zsh's command-path expansion.
	if s != "" && !strings.HasPrefix(s, "=") && strings.IndexFunc(s, needsQuoting) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Command joins a command and its arguments, each quoted with Quote, for a
// person to copy: Command("kubectl", "get", "pod", name, "-n", ns).
func Command(args ...string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = Quote(a)
	}
	return strings.Join(quoted, " ")
}

func isControl(r rune) bool { return unicode.IsControl(r) || (r >= 0x80 && r < 0xa0) }

// isClean reports whether s has nothing to drop, so the common case does
// not allocate.
func isClean(s string, keepNewlines bool) bool {
	for _, r := range s {
		if isControl(r) && (!keepNewlines || (r != '\n' && r != '\t')) {
			return false
		}
	}
	return true
}

// needsQuoting reports whether r is outside the characters every POSIX
// shell takes literally in a bare word.
func needsQuoting(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./:=@%+,", r)
}

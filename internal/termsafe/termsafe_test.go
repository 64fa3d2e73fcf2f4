package termsafe_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/termsafe"
)

func TestText(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "plain text", "plain text"},
		{"newlines and tabs stay", "two\nlines\tand tab", "two\nlines\tand tab"},
		{"ANSI colour", "red\x1b[31mtext\x1b[0m", "red[31mtext[0m"},
		{"screen clear and title", "\x1b[2J\x1b]0;pwned\x07ok", "[2J]0;pwnedok"},
		{"bell and carriage return", "bell\a and CR\r", "bell and CR"},
		{"C1 CSI", "c1 \u009b control", "c1  control"},
		{"unicode", "ünïcödé → ok", "ünïcödé → ok"},
	}
	for _, tt := range tests {
		if got := termsafe.Text(tt.in); got != tt.want {
			t.Errorf("%s: Text(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestLine(t *testing.T) {
	t.Parallel()
	if got, want := termsafe.Line("pod\n  fix: kubectl delete ns prod\x1b[0m\r"), "pod   fix: kubectl delete ns prod[0m "; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
}

func TestQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"backend", "backend"},
		{"deployment/todo-chatbot-backend", "deployment/todo-chatbot-backend"},
		{"image=repo/app:1.4", "image=repo/app:1.4"},
		{"", "''"},
		{"x; rm -rf ~", "'x; rm -rf ~'"},
		{"$(curl evil)", "'$(curl evil)'"},
		{"it's", `'it'\''s'`},
		{"`id`", "'`id`'"},
		{"=ls", "'=ls'"},
		{"a\nb\x1b[2J", "'a b[2J'"},
	}
	for _, tt := range tests {
		if got := termsafe.Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A suggested command, pasted into a shell, passes each hostile value as one
// argument and runs nothing else.
func TestCommandSurvivesTheShell(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	hostile := []string{"x; touch pwned", "$(id)", "`id`", "a'b\"c", "--flag with spaces", "*", "~root", "a\\b", "!!"}
	line := termsafe.Command(append([]string{"printf", "%s\\n"}, hostile...)...)
	out, err := exec.Command(sh, "-c", line).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", line, err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if strings.Join(got, "|") != strings.Join(hostile, "|") {
		t.Errorf("the shell split %q into %q, want %q", line, got, hostile)
	}
}

package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletion checks what README documents for shell completion: each
// shell's script is generated, bash's parses, and cobra's completion engine
// (what every script calls) offers commands and flags.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := runCLI(t, "", "completion", shell)
		if r.code != ExitOK || !strings.Contains(r.stdout, "opsagent") {
			t.Errorf("completion %s: exit %d, %d bytes; stderr %q", shell, r.code, len(r.stdout), r.stderr)
		}
		if shell == "bash" {
			script := filepath.Join(t.TempDir(), "opsagent.bash")
			if err := os.WriteFile(script, []byte(r.stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
				t.Errorf("bash -n on the bash completion script: %v\n%s", err, out)
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"wat"}, "watch"},
		{[]string{"diag"}, "diagnose"},
		{[]string{"watch", "--alert-w"}, "--alert-webhook"},
		{[]string{"top", ""}, "nodes"},
	} {
		r := runCLI(t, "", append([]string{"__complete"}, tc.args...)...)
		if !strings.Contains(r.stdout, tc.want) {
			t.Errorf("__complete %q offers %q, want %s", tc.args, r.stdout, tc.want)
		}
	}
}

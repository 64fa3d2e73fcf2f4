package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// runAs runs the root command as Execute does when the binary was started
// under argv[0], with argv[1:] as its arguments.
func runAs(t *testing.T, argv ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewRootCmd(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(argv[1:])
	// cobra writes help and completions to its own writers, stdout by default.
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	adaptToInvocationName(cmd, argv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return cliResult{code: exitCode(err, &errOut), stdout: out.String(), stderr: errOut.String()}
}

func TestInvocationName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		argv     []string
		want     []string // substrings of stdout
		wantNot  []string
		wantCode int
	}{
		{
			name:    "as opsagent",
			argv:    []string{"/usr/local/bin/opsagent", "diagnose", "--help"},
			want:    []string{"opsagent diagnose"},
			wantNot: []string{"kubectl opsagent"},
		},
		{
			name: "as a kubectl plugin, help names the kubectl command",
			argv: []string{"/home/u/.krew/bin/kubectl-opsagent", "diagnose", "--help"},
			want: []string{"kubectl opsagent diagnose"},
		},
		{
			name: "as a kubectl plugin on Windows",
			argv: []string{`kubectl-opsagent.exe`, "--help"},
			want: []string{"kubectl opsagent [command]"},
		},
		{
			name: "as kubectl's completion helper, subcommands complete",
			argv: []string{"/home/u/bin/kubectl_complete-opsagent", "diag"},
			want: []string{"diagnose\t", ":4"}, // :4 is cobra's ShellCompDirectiveNoFileComp
		},
		{
			name: "as kubectl's completion helper, flags complete",
			argv: []string{"kubectl_complete-opsagent", "version", "--out"},
			want: []string{"--output"},
		},
		{
			name:    "another name is not a plugin",
			argv:    []string{"kubectl-opsagent-old", "--help"},
			want:    []string{"opsagent [command]"},
			wantNot: []string{"kubectl opsagent"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runAs(t, tt.argv...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", r.code, tt.wantCode, r.stderr)
			}
			for _, s := range tt.want {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.wantNot {
				if strings.Contains(r.stdout, s) {
					t.Errorf("stdout has %q:\n%s", s, r.stdout)
				}
			}
		})
	}
}

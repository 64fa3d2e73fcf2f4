package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
)

// runReleaseCLI runs a release command under a root that has the global
// flags, as NewRootCmd will once the commands are registered there.
func runReleaseCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	g := &GlobalOptions{ConfigFlags: genericclioptions.NewConfigFlags(true)}
	root := &cobra.Command{Use: "opsagent", SilenceUsage: true, SilenceErrors: true}
	g.ConfigFlags.AddFlags(root.PersistentFlags())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return BadInput(err) })
	root.AddCommand(NewCmdInstall(g, streams), NewCmdStatus(g, streams), NewCmdHistory(g, streams),
		NewCmdRollback(g, streams), NewCmdUninstall(g, streams))
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return cliResult{code: exitCode(err, &errOut), stdout: out.String(), stderr: errOut.String()}
}

func TestReleaseCommandsBadInput(t *testing.T) {
	isolateEnv(t)
	tests := []struct {
		name string
		args []string
	}{
		{"release name too long", []string{"install", strings.Repeat("a", 54)}},
		{"release name invalid", []string{"status", "Not_Valid"}},
		{"bad --set", []string{"install", "--set", "novalue"}},
		{"missing chart dir", []string{"install", "r", filepath.Join(t.TempDir(), "nope")}},
		{"bad revision", []string{"rollback", "r", "x"}},
		{"uninstall needs a release", []string{"uninstall"}},
		{"bad output", []string{"history", "-o", "yaml"}},
		{"timeout too long", []string{"install", "--timeout", "2h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runReleaseCLI(t, tt.args...)
			if res.code != ExitBadInput {
				t.Errorf("exit = %d, want %d; stderr: %s", res.code, ExitBadInput, res.stderr)
			}
		})
	}
}

// TestReleaseLifecycle drives install, upgrade, rollback and uninstall
// through the CLI on a real cluster, checking the approval rules on the way.
func TestReleaseLifecycle(t *testing.T) {
	isolateEnv(t)
	env := testcluster.New(t)
	ctx := context.Background()
	auditLog := filepath.Join(t.TempDir(), "audit.log")
	run := func(args ...string) cliResult {
		t.Helper()
		return runReleaseCLI(t, append(args, "--kubeconfig", env.Kubeconfig, "-n", env.Namespace)...)
	}
	mut := func(args ...string) []string { return append(args, "--audit-log", auditLog) }
	const rel = "todo-chatbot"
	fast := []string{"--wait=false", "--atomic=false"}

	// Without --yes and without a terminal nothing is installed.
	res := run(mut(append([]string{"install", rel}, fast...)...)...)
	if res.code != ExitApprovalRequired {
		t.Fatalf("install without --yes: exit = %d, want %d\nstdout: %s\nstderr: %s", res.code, ExitApprovalRequired, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "objects to create") {
		t.Errorf("install preview should list objects to create:\n%s", res.stdout)
	}
	if res := run("status", rel); res.code != ExitBadInput {
		t.Fatalf("status after refused install: exit = %d, want %d (release not found)\n%s", res.code, ExitBadInput, res.stderr)
	}

	// With --yes it is installed.
	res = run(mut(append([]string{"install", rel, "--yes"}, fast...)...)...)
	if res.code != ExitOK {
		t.Fatalf("install: exit = %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "installed") {
		t.Errorf("install output:\n%s", res.stdout)
	}
	if _, err := env.Client.AppsV1().Deployments(env.Namespace).Get(ctx, rel+"-backend", metav1.GetOptions{}); err != nil {
		t.Fatalf("backend deployment: %v", err)
	}
	res = run("status", rel, "-o", "json")
	var rec struct {
		Risk   string         `json:"risk"`
		Result release.Status `json:"result"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rec); err != nil || res.code != ExitOK {
		t.Fatalf("status -o json: exit %d, %v\n%s\n%s", res.code, err, res.stdout, res.stderr)
	}
	if rec.Result.Status != "deployed" || rec.Result.Revision != 1 || rec.Risk != "read" {
		t.Errorf("status = %+v, risk %s; want deployed revision 1, read", rec.Result.Release, rec.Risk)
	}

	// An upgrade previews a diff of the replicas.
	res = run(mut(append([]string{"install", rel, "--yes", "--set", "backend.replicaCount=2"}, fast...)...)...)
	if res.code != ExitOK {
		t.Fatalf("upgrade: exit = %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "replicas: 2") || !strings.Contains(res.stdout, "Upgrade release") {
		t.Errorf("upgrade preview should diff the replicas:\n%s", res.stdout)
	}
	if got := env.Replicas(t, rel+"-backend"); got != 2 {
		t.Errorf("backend replicas after upgrade = %d, want 2", got)
	}

	// The same upgrade again changes nothing.
	res = run(mut(append([]string{"install", rel, "--set", "backend.replicaCount=2"}, fast...)...)...)
	if res.code != ExitOK || !strings.Contains(res.stdout, "up to date") {
		t.Errorf("repeated upgrade: exit %d, want 0 and no change\n%s\n%s", res.code, res.stdout, res.stderr)
	}

	// Roll back to revision 1.
	res = run(mut("rollback", rel, "1", "--yes", "--wait=false")...)
	if res.code != ExitOK {
		t.Fatalf("rollback: exit = %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "revision 2 → 1") {
		t.Errorf("rollback preview:\n%s", res.stdout)
	}
	if got := env.Replicas(t, rel+"-backend"); got != 1 {
		t.Errorf("backend replicas after rollback = %d, want 1", got)
	}
	res = run("history", rel)
	if res.code != ExitOK || strings.Count(res.stdout, "\n") != 4 {
		t.Errorf("history should list 3 revisions: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}

	// Uninstall is destructive: --yes alone is not enough.
	res = run(mut("uninstall", rel, "--yes")...)
	if res.code != ExitApprovalRequired || !strings.Contains(res.stdout, "✗ ") || !strings.Contains(res.stdout, "--allow-destructive") {
		t.Fatalf("uninstall without --allow-destructive: exit = %d, want %d\n%s%s", res.code, ExitApprovalRequired, res.stdout, res.stderr)
	}
	res = run(mut("uninstall", rel, "--allow-destructive")...)
	if res.code != ExitApprovalRequired {
		t.Fatalf("uninstall without --yes: exit = %d, want %d\n%s", res.code, ExitApprovalRequired, res.stderr)
	}
	res = run(mut("uninstall", rel, "--allow-destructive", "--yes", "-o", "json")...)
	if res.code != ExitOK {
		t.Fatalf("uninstall: exit = %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	var urec struct {
		Preview *tools.Preview `json:"preview"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &urec); err != nil || urec.Preview == nil || !strings.Contains(urec.Preview.Diff, "Deployment/"+rel+"-backend") {
		t.Errorf("uninstall record should preview the removed backend: %v\n%s", err, res.stdout)
	}
	if res := run("status", rel); res.code != ExitBadInput {
		t.Errorf("status after uninstall: exit = %d, want %d", res.code, ExitBadInput)
	}
	_, err := env.Client.AppsV1().Deployments(env.Namespace).Get(ctx, rel+"-backend", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("backend deployment after uninstall: err = %v, want not found", err)
	}
}

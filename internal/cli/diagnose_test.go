package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// diagCLI runs `opsagent diagnose|explain ARGS` as the root command would
// (global kubectl flags included), with buffers for the streams and getenv
// for the environment, and returns the exit code and output.
func diagCLI(t *testing.T, getenv func(string) string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	g := &GlobalOptions{ConfigFlags: genericclioptions.NewConfigFlags(true)}
	root := &cobra.Command{Use: "opsagent", SilenceErrors: true, SilenceUsage: true}
	g.ConfigFlags.AddFlags(root.PersistentFlags())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return BadInput(err) })
	d := NewDiagnoseOptions(g, streams)
	d.getenv = getenv
	e := NewExplainOptions(g, streams)
	e.getenv = getenv
	root.AddCommand(newCmdDiagnose(d), newCmdExplain(e))
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return cliResult{code: exitCode(err, &errOut), stdout: out.String(), stderr: errOut.String()}
}

// diagEnv is an environment without any model configuration or config file.
func diagEnv(t *testing.T, vars map[string]string) func(string) string {
	t.Helper()
	env := map[string]string{"XDG_CONFIG_HOME": t.TempDir(), "XDG_CACHE_HOME": t.TempDir()}
	for k, v := range vars {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func diagPod(t *testing.T, env *testcluster.Env, name string, labels map[string]string) {
	t.Helper()
	zero := int64(0)
	_, err := env.Client.CoreV1().Pods(env.Namespace).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.PodSpec{TerminationGracePeriodSeconds: &zero, Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// diagWait runs the command until its exit code is want.
func diagWait(t *testing.T, want int, getenv func(string) string, args ...string) cliResult {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		r := diagCLI(t, getenv, args...)
		if r.code == want {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, r.code, want, r.stdout, r.stderr)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func TestDiagnoseCommand(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	getenv := diagEnv(t, nil)
	cluster := []string{"--kubeconfig", env.Kubeconfig, "-n", env.Namespace}

	// Healthy (an empty namespace, then a running pod): exit 0.
	diagPod(t, env, "fine", nil)
	r := diagWait(t, ExitOK, getenv, append([]string{"diagnose"}, cluster...)...)
	if !strings.Contains(r.stdout, "No problems found in namespace "+env.Namespace) || strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("healthy text output:\n%s", r.stdout)
	}

	diagPod(t, env, "crash", map[string]string{"sim.opsagent.dev/state": "CrashLoopBackOff"})
	r = diagWait(t, ExitProblemsFound, getenv, append([]string{"diagnose", "-o", "json"}, cluster...)...)
	var rep diagnose.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("JSON output: %v\n%s", err, r.stdout)
	}
	if rep.APIVersion != "opsagent.dev/v1" || rep.Kind != "DiagnoseReport" || rep.Summary.Critical != 1 ||
		rep.Groups[0].Findings[0].Rule != diagnose.RulePodCrashLoopBackOff || r.stderr != "" {
		t.Errorf("report: %+v\nstderr: %s", rep, r.stderr)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(r.stdout), &raw)
	for _, k := range []string{"apiVersion", "kind", "metadata", "summary", "groups"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}

	r = diagCLI(t, getenv, append([]string{"diagnose", "--kind", "Pod"}, cluster...)...)
	if r.code != ExitProblemsFound || !strings.Contains(r.stdout, "CRITICAL  Pod "+env.Namespace+"/crash") || !strings.Contains(r.stdout, "$ kubectl logs crash -n "+env.Namespace+" -c app --previous") {
		t.Errorf("text output (exit %d):\n%s", r.code, r.stdout)
	}
	// Another namespace's selector: nothing matches, healthy.
	if r := diagCLI(t, getenv, append([]string{"diagnose", "-l", "app=none"}, cluster...)...); r.code != ExitOK {
		t.Errorf("-l app=none: exit %d\n%s", r.code, r.stdout)
	}
}

func TestDiagnoseCommandBadInput(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	getenv := diagEnv(t, nil)
	for _, args := range [][]string{
		{"diagnose", "--kind", "Podz"},
		{"diagnose", "-o", "yaml"},
		{"diagnose", "-l", "app in"},
		{"diagnose", "extra-arg"},
		{"explain", "a", "b"},
		{"explain", "service/web"},
		{"explain", "nothing-here"},
	} {
		r := diagCLI(t, getenv, append(args, "--kubeconfig", env.Kubeconfig, "-n", env.Namespace)...)
		if r.code != ExitBadInput {
			t.Errorf("%v: exit %d, want %d (stderr %s)", args, r.code, ExitBadInput, r.stderr)
		}
	}
	for _, args := range [][]string{{"diagnose"}, {"explain"}} {
		r := diagCLI(t, getenv, append(args, "--kubeconfig", env.Kubeconfig, "-n", env.Namespace+"-nope")...)
		if r.code != ExitBadInput {
			t.Errorf("%v: exit %d, want %d (stderr %s)", args, r.code, ExitBadInput, r.stderr)
		}
	}
	// An unreachable cluster: could not diagnose.
	r := diagCLI(t, getenv, "diagnose", "--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify", "-n", "x", "--request-timeout", "2s")
	if r.code != ExitFailed || !strings.Contains(r.stderr, "could not diagnose") {
		t.Errorf("unreachable cluster: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestDiagnoseExplainFlag drives --explain against a fake OpenAI endpoint:
// one request per group, answers shown and cached; without a key the report
// says the rule-based explanation is what is shown.
func TestDiagnoseExplainFlag(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	var requests atomic.Int32
	var lastBody atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		lastBody.Store(string(body))
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "1", "object": "chat.completion", "model": "fake-model",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": "The app exits at start: fix its database password."}}},
		})
	}))
	defer srv.Close()
	cluster := []string{"--kubeconfig", env.Kubeconfig, "-n", env.Namespace}
	diagPod(t, env, "crash-a", map[string]string{"sim.opsagent.dev/state": "CrashLoopBackOff"})
	diagPod(t, env, "pull-b", map[string]string{"sim.opsagent.dev/state": "ImagePullBackOff"})

	noKey := diagEnv(t, nil)
	diagWait(t, ExitProblemsFound, noKey, append([]string{"diagnose", "--kind", "Pod"}, cluster...)...)
	r := diagCLI(t, noKey, append([]string{"diagnose", "--explain"}, cluster...)...)
	if !strings.Contains(r.stdout, "OPENAI_API_KEY is not set") || requests.Load() != 0 {
		t.Errorf("without a key:\n%s", r.stdout)
	}

	withKey := diagEnv(t, map[string]string{"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": srv.URL + "/v1", "OPSAGENT_MODEL": "fake-model"})
	var rep diagnose.Report
	deadline := time.Now().Add(45 * time.Second)
	for {
		requests.Store(0)
		r = diagCLI(t, withKey, append([]string{"diagnose", "--explain", "-o", "json", "--kind", "Pod"}, cluster...)...)
		rep = diagnose.Report{}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("JSON: %v\n%s", err, r.stdout)
		}
		if len(rep.Groups) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if r.code != ExitProblemsFound || len(rep.Groups) != 2 || int(requests.Load()) != 2 || rep.Explain == nil || rep.Explain.Source != "llm" {
		t.Fatalf("exit %d, %d groups, %d requests, explain %+v", r.code, len(rep.Groups), requests.Load(), rep.Explain)
	}
	for _, g := range rep.Groups {
		if g.Explanation == nil || g.Explanation.Text != "The app exits at start: fix its database password." || g.Explanation.Model != "fake-model" {
			t.Errorf("group %s explanation %+v", g.Object, g.Explanation)
		}
	}
	if body, _ := lastBody.Load().(string); !strings.Contains(body, `"model":"fake-model"`) || !strings.Contains(body, "PodCrashLoopBackOff") && !strings.Contains(body, "PodImagePullError") {
		t.Errorf("request body: %s", body)
	}
	// Again: the same problems are answered from the cache.
	requests.Store(0)
	r = diagCLI(t, withKey, append([]string{"diagnose", "--explain", "--kind", "Pod"}, cluster...)...)
	if requests.Load() != 0 || !strings.Contains(r.stdout, "explanation (fake-model, cached)") {
		t.Errorf("second run: %d requests\n%s", requests.Load(), r.stdout)
	}
}

func TestDiagnoseColor(t *testing.T) {
	t.Parallel()
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	if colorTerminal(&bytes.Buffer{}, env(nil)) {
		t.Error("a buffer is not a terminal")
	}
	if colorTerminal(nil, env(map[string]string{"NO_COLOR": "1"})) {
		t.Error("NO_COLOR must disable colour")
	}
	rep := &diagnose.Report{Metadata: diagnose.ReportMeta{Scope: diagnose.ScopeInfo{Namespace: "x"}}, Summary: diagnose.Summary{Findings: 1, Critical: 1, Groups: 1},
		Groups: []diagnose.Group{{Object: diagnose.ObjectRef{Kind: "Pod", Name: "p"}, Severity: diagnose.Critical,
			Findings: []diagnose.Finding{{Rule: "R", Severity: diagnose.Critical, Object: diagnose.ObjectRef{Kind: "Pod", Name: "p"}, Summary: "s"}}}}}
	var colored, plain bytes.Buffer
	_ = diagnose.WriteText(&colored, rep, diagnose.TextOptions{Color: true})
	_ = diagnose.WriteText(&plain, rep, diagnose.TextOptions{})
	if !strings.Contains(colored.String(), "\x1b[31m") || strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("colour codes: colored=%q plain=%q", colored.String(), plain.String())
	}
}

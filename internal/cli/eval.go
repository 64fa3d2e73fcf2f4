package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/eval"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/sandbox"
)

// EvalOptions are the flags of `opsagent eval`.
type EvalOptions struct {
	Dir            string
	Tasks          []string
	Repeat         int
	ModelScript    bool
	Output         string
	output         *outputFlag
	KeepNamespaces bool
	TaskTimeout    time.Duration

	global *GlobalOptions
	genericiooptions.IOStreams

	// Resolved by Complete.
	tasks   []*eval.Task
	cfg     config.Config
	clients *kube.Clients

	// Seams for tests.
	getenv func(string) string
}

// NewEvalOptions returns the defaults.
func NewEvalOptions(g *GlobalOptions, streams genericiooptions.IOStreams) *EvalOptions {
	return &EvalOptions{Repeat: 1, TaskTimeout: eval.DefaultTaskTimeout,
		global: g, IOStreams: streams, getenv: os.Getenv}
}

// NewCmdEval builds `opsagent eval`.
func NewCmdEval(g *GlobalOptions, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewEvalOptions(g, streams)
	cmd := &cobra.Command{
		Use:   "eval DIR",
		Short: "Measure the agent on a suite of tasks (k8s-ai-bench format)",
		Long: `eval runs each task folder under DIR on the current cluster, in a fresh
namespace eval-<task>-<random>: setup.sh, then the agent on each prompt of
task.yaml exactly as

  opsagent "<prompt>" -n <namespace> --yes -o json

would (plus the task's flags), then verify.sh, then cleanup.sh, and deletes the
namespace. Scripts get $NAMESPACE and $KUBECONFIG, with the sandbox's kubectl
first on $PATH. The format is described in docs/eval.md; the suite is in
eval/tasks.

The model is the configured OpenAI-compatible endpoint (OPENAI_API_KEY,
OPENAI_BASE_URL, OPSAGENT_MODEL), or with --model-script a scripted model that
replays the tool calls written in each task.yaml (for CI). Either way every
request to the model is recorded, so a task's canary Secret value is checked
never to reach it.

The report gives per task: pass or fail and why, LLM calls, prompt and
completion tokens, time; and the totals with pass@1 over --repeat runs.

Exit codes: 0 every task passed; 1 a task failed; 2 bad input.`,
		Example: `  opsagent sandbox up && opsagent eval eval/tasks --model-script
  opsagent eval eval/tasks --task fix-oomkilled --repeat 3
  OPENAI_API_KEY=... OPSAGENT_MODEL=gpt-4o opsagent eval eval/tasks -o json > report.json`,
		Args: exactArgs(1),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Tasks, "task", nil, "run only this task (folder name; repeat or comma-separate for several)")
	f.IntVar(&o.Repeat, "repeat", o.Repeat, "run each task N times (pass@1 is averaged over them)")
	f.BoolVar(&o.ModelScript, "model-script", false, "use the scripted model in each task.yaml instead of a configured endpoint")
	o.output = addOutputFlag(cmd, &o.Output)
	f.BoolVar(&o.KeepNamespaces, "keep-namespaces", false, "keep each task's namespace and skip cleanup.sh, for inspection")
	f.DurationVar(&o.TaskTimeout, "task-timeout", o.TaskTimeout, "bound on one task (setup, agent, verify) unless task.yaml sets its own")
	return cmd
}

// Complete loads the tasks, the model settings (a model is required unless
// --model-script) and the clients.
func (o *EvalOptions) Complete(args []string) error {
	o.Dir = args[0]
	tasks, err := eval.LoadTasks(o.Dir, o.Tasks)
	if err != nil {
		return BadInput(err)
	}
	o.tasks = tasks
	if o.cfg, err = config.Load(o.getenv); err != nil {
		return BadInput(err)
	}
	if !o.ModelScript && !o.cfg.LLMEnabled() {
		return BadInput(eval.ErrNoModel)
	}
	o.clients, err = kube.NewClients(o.global.ConfigFlags)
	return err
}

// Validate checks the flags.
func (o *EvalOptions) Validate(_ []string) error {
	if err := o.output.validate(); err != nil {
		return err
	}
	if o.Repeat < 1 || o.Repeat > 100 {
		return fmt.Errorf("--repeat must be between 1 and 100, got %d", o.Repeat)
	}
	if o.TaskTimeout <= 0 {
		return fmt.Errorf("--task-timeout must be positive, got %s", o.TaskTimeout)
	}
	return nil
}

// Run runs the suite and prints the report.
func (o *EvalOptions) Run(ctx context.Context) error {
	work, err := os.MkdirTemp("", "opsagent-eval-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }() // temp files only
	kubeconfig := filepath.Join(work, "kubeconfig")
	if err := o.writeKubeconfig(kubeconfig); err != nil {
		return err
	}
	r := &eval.Runner{
		Client: o.clients.Typed, Kubeconfig: kubeconfig, PathPrefix: kubectlDir(),
		Agent: o.runAgent, Repeat: o.Repeat, TaskTimeout: o.TaskTimeout,
		KeepNamespaces: o.KeepNamespaces, Progress: o.ErrOut,
	}
	if o.ModelScript {
		r.Model, err = eval.NewScriptedModel()
		r.ModelName = eval.ScriptedModelName
		r.ModelEnv = map[string]string{
			// The agent redacts its key from what it sends: use one no tool
			// output will contain.
			config.KeyAPIKey: "opsagent-eval-scripted-model-key", config.KeyAPIType: config.APITypeOpenAI,
			config.KeyModel: eval.ScriptedModelName,
		}
	} else {
		r.Model, err = eval.NewRecordingProxy(o.cfg.BaseURL)
		r.ModelName = o.cfg.Model
	}
	if err != nil {
		return err
	}
	defer func() { _ = r.Model.Close() }() // local server

	rep, err := r.Run(ctx, o.tasks)
	if err != nil && rep == nil {
		return err
	}
	var werr error
	if o.Output == outputJSON {
		werr = rep.WriteJSON(o.Out)
	} else {
		werr = rep.WriteText(o.Out)
	}
	switch {
	case err != nil:
		return &ExitError{Code: ExitFailed, Err: err}
	case werr != nil:
		return werr
	case !rep.AllPassed():
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%d of %d tasks failed",
			rep.Summary.Tasks-rep.Summary.Passed, rep.Summary.Tasks)}
	}
	return nil
}

// runAgent runs the agent in-process on one prompt, through the same
// options, flags and code path as `opsagent PROMPT -n NS --yes -o json`.
func (o *EvalOptions) runAgent(ctx context.Context, req eval.AgentRequest) (eval.AgentResult, error) {
	var stdout, stderr bytes.Buffer
	g := &GlobalOptions{ConfigFlags: withNamespace(o.global.ConfigFlags, req.Namespace), Verbose: o.global.Verbose}
	ao := NewAgentOptions(g, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr})
	ao.getenv = func(key string) string {
		if v, ok := req.Env[key]; ok {
			return v
		}
		return o.getenv(key)
	}
	cmd := &cobra.Command{Use: "opsagent", SilenceUsage: true, SilenceErrors: true, Args: cobra.ArbitraryArgs}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return BadInput(err) })
	cmd.SetOut(&stderr)
	cmd.SetErr(&stderr)
	bindAgentCommand(cmd, ao)
	args := append([]string{"--yes", "--output", outputJSON, "--audit-log", req.AuditLog}, req.Flags...)
	cmd.SetArgs(append(args, "--", req.Prompt))
	err := cmd.ExecuteContext(ctx)
	code := exitCode(err, &stderr)
	return eval.AgentResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}, ctx.Err()
}

// withNamespace returns kubectl flags equal to f but for the namespace ns.
func withNamespace(f *genericclioptions.ConfigFlags, ns string) *genericclioptions.ConfigFlags {
	c := genericclioptions.NewConfigFlags(true)
	c.CacheDir, c.KubeConfig, c.ClusterName, c.AuthInfoName, c.Context = f.CacheDir, f.KubeConfig, f.ClusterName, f.AuthInfoName, f.Context
	c.APIServer, c.TLSServerName, c.Insecure = f.APIServer, f.TLSServerName, f.Insecure
	c.CertFile, c.KeyFile, c.CAFile, c.BearerToken = f.CertFile, f.KeyFile, f.CAFile, f.BearerToken
	c.Impersonate, c.ImpersonateUID, c.ImpersonateGroup, c.ImpersonateUserExtra = f.Impersonate, f.ImpersonateUID, f.ImpersonateGroup, f.ImpersonateUserExtra
	c.Username, c.Password, c.Timeout, c.DisableCompression, c.ProxyURL = f.Username, f.Password, f.Timeout, f.DisableCompression, f.ProxyURL
	c.Namespace = &ns
	return c
}

// writeKubeconfig writes the kubeconfig the scripts use: the context eval
// runs on (--context included), with everything else left out.
func (o *EvalOptions) writeKubeconfig(path string) error {
	raw, err := o.global.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return fmt.Errorf("read kubeconfig: %w", err)
	}
	if o.clients.Context != "" {
		raw.CurrentContext = o.clients.Context
	}
	if raw.CurrentContext == "" {
		return errors.New("eval needs a kubeconfig with a current context (its scripts run kubectl)")
	}
	if err := clientcmdapi.MinifyConfig(&raw); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	if err := clientcmd.WriteToFile(raw, path); err != nil {
		return fmt.Errorf("write kubeconfig for the task scripts: %w", err)
	}
	return nil
}

// kubectlDir is where the sandbox's kubectl is, if it was built; the task
// scripts get it first on PATH.
func kubectlDir() string {
	dir := sandbox.DefaultBinDir()
	if _, err := os.Stat(filepath.Join(dir, "kubectl")); err != nil {
		return ""
	}
	return dir
}

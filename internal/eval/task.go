// Package eval measures the agent on a suite of tasks kept as data: folders
// in k8s-ai-bench's format (task.yaml, setup.sh, verify.sh, cleanup.sh),
// each run in a fresh namespace of a real cluster, with either a scripted
// model that replays the tool calls a capable model makes or any
// OpenAI-compatible endpoint. `opsagent eval` is its command; the format is
// described in docs/eval.md.
package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// TaskFile is the name of a task's definition in its folder.
const TaskFile = "task.yaml"

// Task is one folder of the suite.
type Task struct {
	// Name is the folder name.
	Name string `json:"-"`
	// Dir is the folder's absolute path; scripts run in it.
	Dir string `json:"-"`

	// Script is what the user says, in order: each prompt is one agent
	// run, as `opsagent "<prompt>" -n <ns> --yes -o json`. Model is what the
	// scripted model replies to it (--model-script).
	Script []ScriptStep `json:"script"`
	// Setup, Verifier and Cleanup are scripts in the folder, run with bash.
	Setup    string `json:"setup,omitempty"`
	Verifier string `json:"verifier,omitempty"`
	Cleanup  string `json:"cleanup,omitempty"`
	// Expect are regular expressions the agent's answers must (not) match.
	Expect     []Expectation `json:"expect,omitempty"`
	Difficulty string        `json:"difficulty,omitempty"`
	Disabled   bool          `json:"disabled,omitempty"`
	// Timeout bounds the whole task (setup, agent, verify), e.g. "2m".
	Timeout string `json:"timeout,omitempty"`
	// Isolation is k8s-ai-bench's per-task cluster; only the default (a
	// namespace) is supported here.
	Isolation string `json:"isolation,omitempty"`

	// Flags are extra flags the user gives the agent, e.g.
	// ["--allow-privileged"] for a task that creates RBAC objects.
	Flags []string `json:"flags,omitempty"`
	// Adversarial tasks fail if any change outside the task's namespace was
	// made, whatever verify.sh says.
	Adversarial bool `json:"adversarial,omitempty"`
	// Canary is a value (a Secret's) that must never appear in any request
	// sent to the model, plain or base64-encoded.
	Canary string `json:"canary,omitempty"`
}

// ScriptStep is one prompt of a task. The prompt may use {{.Namespace}}.
type ScriptStep struct {
	Prompt     string `json:"prompt,omitempty"`
	PromptFile string `json:"promptFile,omitempty"`
	// Model is what the scripted model replies, one entry per model call.
	Model []ModelStep `json:"model,omitempty"`
}

// ModelStep is one reply of the scripted model: either tool calls (one
// with Tool and Args, or several in Calls) or the final Answer.
type ModelStep struct {
	Tool   string          `json:"tool,omitempty"`
	Args   json.RawMessage `json:"args,omitempty"`
	Calls  []ToolCall      `json:"calls,omitempty"`
	Answer string          `json:"answer,omitempty"`
	// Delay is how long the model "thinks" before this reply (e.g. "2s"),
	// as a real model would, when a task needs the cluster to settle.
	Delay string `json:"delay,omitempty"`
}

// ToolCall is one tool call of a scripted reply. Args may use
// {{.Namespace}}, replaced by the task's namespace.
type ToolCall struct {
	Tool string          `json:"tool"`
	Args json.RawMessage `json:"args,omitempty"`
}

// toolCalls returns the step's calls, whichever way they were written.
func (s ModelStep) toolCalls() []ToolCall {
	if s.Tool != "" {
		return []ToolCall{{Tool: s.Tool, Args: s.Args}}
	}
	return s.Calls
}

// Expectation is k8s-ai-bench's output check: a regular expression the
// agent's answer must contain, or must not contain.
type Expectation struct {
	Contains    string `json:"contains,omitempty"`
	NotContains string `json:"notContains,omitempty"`
}

// reservedFlags are the agent flags eval sets for every run: a task cannot
// move the run to another namespace or cluster, or change its output.
var reservedFlags = []string{"-n", "--namespace", "-o", "--output", "--audit-log", "--kubeconfig",
	"--context", "-f", "--filename", "--yes", "-y", "--no-llm", "--model"}

// LoadTasks reads every task folder under dir (folders whose names start
// with "_" or "." hold shared files and are skipped), sorted by name. names,
// if given, selects tasks by folder name; an unknown name is an error.
// Disabled tasks are left out unless named.
func LoadTasks(dir string, names []string) ([]*Task, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("read task folder: %w", err)
	}
	var tasks []*Task
	found := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), "_") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if len(names) > 0 && !slices.Contains(names, e.Name()) {
			continue
		}
		t, err := LoadTask(filepath.Join(abs, e.Name()))
		if err != nil {
			return nil, err
		}
		found[t.Name] = true
		if t.Disabled && len(names) == 0 {
			continue
		}
		tasks = append(tasks, t)
	}
	for _, n := range names {
		if !found[n] {
			return nil, fmt.Errorf("no task %q in %s", n, abs)
		}
	}
	if len(tasks) == 0 {
		return nil, fmt.Errorf("no tasks in %s (each task is a folder with a %s)", abs, TaskFile)
	}
	return tasks, nil
}

// LoadTask reads and checks one task folder.
func LoadTask(dir string) (*Task, error) {
	path := filepath.Join(dir, TaskFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read task: %w", err)
	}
	t := &Task{}
	if err := yaml.UnmarshalStrict(data, t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Name, t.Dir = filepath.Base(dir), dir
	for i := range t.Script {
		s := &t.Script[i]
		if s.PromptFile == "" {
			continue
		}
		if s.Prompt != "" {
			return nil, fmt.Errorf("%s: script step %d has both prompt and promptFile", path, i+1)
		}
		b, err := os.ReadFile(filepath.Join(dir, s.PromptFile))
		if err != nil {
			return nil, fmt.Errorf("%s: script step %d: %w", path, i+1, err)
		}
		s.Prompt = strings.TrimSpace(string(b))
	}
	if err := t.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func (t *Task) validate() error {
	if len(t.Script) == 0 {
		return errors.New("script: at least one prompt is required")
	}
	if t.Isolation != "" {
		return fmt.Errorf("isolation %q is not supported: each task runs in a fresh namespace", t.Isolation)
	}
	if t.Verifier == "" && len(t.Expect) == 0 {
		return errors.New("a task needs a verifier or expect entries, or it cannot fail")
	}
	for _, s := range []string{t.Setup, t.Verifier, t.Cleanup} {
		if s == "" {
			continue
		}
		if filepath.IsAbs(s) || strings.Contains(s, "..") {
			return fmt.Errorf("script %q must be a file inside the task folder", s)
		}
		if _, err := os.Stat(filepath.Join(t.Dir, s)); err != nil {
			return err
		}
	}
	if t.Timeout != "" {
		if _, err := time.ParseDuration(t.Timeout); err != nil {
			return fmt.Errorf("timeout: %w", err)
		}
	}
	for i, e := range t.Expect {
		if (e.Contains == "") == (e.NotContains == "") {
			return fmt.Errorf("expect %d: give exactly one of contains and notContains", i+1)
		}
		if _, err := regexp.Compile(e.Contains + e.NotContains); err != nil {
			return fmt.Errorf("expect %d: %w", i+1, err)
		}
	}
	for _, f := range t.Flags {
		name, _, _ := strings.Cut(f, "=")
		if slices.Contains(reservedFlags, name) {
			return fmt.Errorf("flags: %s is set by opsagent eval itself", name)
		}
	}
	if t.Canary != "" && len(t.Canary) < 8 {
		return errors.New("canary: use a value of at least 8 characters, unlikely to occur by chance")
	}
	for i, s := range t.Script {
		if strings.TrimSpace(s.Prompt) == "" {
			return fmt.Errorf("script step %d: the prompt is empty", i+1)
		}
		for j, m := range s.Model {
			if err := m.validate(j == len(s.Model)-1); err != nil {
				return fmt.Errorf("script step %d, model step %d: %w", i+1, j+1, err)
			}
		}
	}
	return nil
}

func (s ModelStep) validate(last bool) error {
	kinds := 0
	if s.Tool != "" {
		kinds++
	}
	if len(s.Calls) > 0 {
		kinds++
	}
	if s.Answer != "" {
		kinds++
	}
	switch {
	case kinds != 1:
		return errors.New("give exactly one of tool (with args), calls, or answer")
	case s.Tool == "" && len(s.Args) > 0:
		return errors.New("args without tool")
	case last && s.Answer == "":
		return errors.New("the model's script must end with an answer")
	case !last && s.Answer != "":
		return errors.New("an answer ends the conversation: it must be the last step")
	}
	if s.Delay != "" {
		if d, err := time.ParseDuration(s.Delay); err != nil || d < 0 || d > time.Minute {
			return fmt.Errorf("delay %q: want a duration up to 1m", s.Delay)
		}
	}
	for _, c := range s.toolCalls() {
		if c.Tool == "" {
			return errors.New("a call without a tool name")
		}
		if len(c.Args) > 0 {
			var obj map[string]any
			if err := json.Unmarshal(c.Args, &obj); err != nil {
				return fmt.Errorf("%s: args must be an object: %w", c.Tool, err)
			}
		}
	}
	return nil
}

// HasModelScript reports whether every prompt has a scripted reply.
func (t *Task) HasModelScript() bool {
	for _, s := range t.Script {
		if len(s.Model) == 0 {
			return false
		}
	}
	return true
}

// timeout is the task's bound, or def.
func (t *Task) timeout(def time.Duration) time.Duration {
	if d, err := time.ParseDuration(t.Timeout); err == nil && d > 0 {
		return d
	}
	return def
}

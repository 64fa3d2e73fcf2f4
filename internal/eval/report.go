package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of an eval run, shaped for -o json.
type Report struct {
	Model    string    `json:"model"`
	Scripted bool      `json:"scripted"`
	Repeat   int       `json:"repeat"`
	Started  time.Time `json:"started"`
	// Tasks sums up the attempts of each task, in run order.
	Tasks    []TaskSummary `json:"tasks"`
	Attempts []*Attempt    `json:"attempts"`
	Summary  Summary       `json:"summary"`
}

// Attempt is one run of one task.
type Attempt struct {
	Task        string `json:"task"`
	Attempt     int    `json:"attempt"`
	Namespace   string `json:"namespace"`
	Difficulty  string `json:"difficulty,omitempty"`
	Adversarial bool   `json:"adversarial,omitempty"`
	Passed      bool   `json:"passed"`
	// Reason is the first failure; Failures has them all.
	Reason   string   `json:"reason,omitempty"`
	Failures []string `json:"failures,omitempty"`
	// Notes are problems that do not decide the outcome (cleanup failed,
	// the agent asked the scripted model for more than was scripted).
	Notes            []string    `json:"notes,omitempty"`
	Prompts          []PromptRun `json:"prompts"`
	LLMCalls         int         `json:"llmCalls"`
	PromptTokens     int         `json:"promptTokens"`
	CompletionTokens int         `json:"completionTokens"`
	// ModelRequests is the number of request bodies the model server
	// recorded; CanaryLeaks how many of them held the task's canary.
	ModelRequests int  `json:"modelRequests"`
	CanaryChecked bool `json:"canaryChecked,omitempty"`
	CanaryLeaks   int  `json:"canaryLeaks"`
	Gate          Gate `json:"gate"`
	// Duration is the whole attempt; AgentTime the agent runs alone.
	Duration  Duration `json:"duration"`
	AgentTime Duration `json:"agentTime"`
}

// PromptRun is one agent run of an attempt.
type PromptRun struct {
	Prompt   string   `json:"prompt"`
	Mode     string   `json:"mode,omitempty"`
	ExitCode int      `json:"exitCode"`
	Answer   string   `json:"answer"`
	Error    string   `json:"error,omitempty"`
	Actions  []Action `json:"actions"`
	// ModelProblems are the ways the run left the model script.
	ModelProblems []string `json:"modelProblems,omitempty"`
}

// Gate sums up the changes of an attempt as the gate recorded them.
type Gate struct {
	// Mutations are the mutating calls; Executed were approved and run,
	// Refused were not approved.
	Mutations int `json:"mutations"`
	Executed  int `json:"executed"`
	Refused   int `json:"refused"`
	// Audited is the number of audit log entries the attempt wrote; it must
	// equal Executed.
	Audited int `json:"audited"`
	// Unreviewed lists executed changes without a preview or an approver.
	Unreviewed []string `json:"unreviewed,omitempty"`
	// OutsideNamespace lists executed changes to objects outside the
	// task's namespace (a failure for adversarial tasks).
	OutsideNamespace []string `json:"outsideNamespace,omitempty"`
}

// TaskSummary is a task over its attempts.
type TaskSummary struct {
	Task     string `json:"task"`
	Attempts int    `json:"attempts"`
	Passes   int    `json:"passes"`
	// PassRate is Passes / Attempts: the task's estimate of pass@1.
	PassRate float64 `json:"passRate"`
	// Reason is the first failure of the first failed attempt.
	Reason           string   `json:"reason,omitempty"`
	LLMCalls         int      `json:"llmCalls"`
	PromptTokens     int      `json:"promptTokens"`
	CompletionTokens int      `json:"completionTokens"`
	Duration         Duration `json:"duration"`
}

// Summary is the whole run.
type Summary struct {
	Tasks    int `json:"tasks"`
	Attempts int `json:"attempts"`
	// Passed counts tasks whose every attempt passed.
	Passed int `json:"passed"`
	// PassAt1 is the mean over tasks of each task's pass rate.
	PassAt1          float64  `json:"passAt1"`
	LLMCalls         int      `json:"llmCalls"`
	PromptTokens     int      `json:"promptTokens"`
	CompletionTokens int      `json:"completionTokens"`
	ModelRequests    int      `json:"modelRequests"`
	CanaryTasks      int      `json:"canaryTasks"`
	CanaryLeaks      int      `json:"canaryLeaks"`
	Executed         int      `json:"changesExecuted"`
	Audited          int      `json:"changesAudited"`
	Refused          int      `json:"changesRefused"`
	Duration         Duration `json:"duration"`
}

// AllPassed reports whether every attempt passed.
func (r *Report) AllPassed() bool {
	return r.Summary.Attempts > 0 && r.Summary.Passed == r.Summary.Tasks
}

// finish computes the task summaries and totals.
func (r *Report) finish() *Report {
	r.Tasks, r.Summary = nil, Summary{}
	index := map[string]int{}
	for _, a := range r.Attempts {
		if _, ok := index[a.Task]; !ok {
			index[a.Task] = len(r.Tasks)
			r.Tasks = append(r.Tasks, TaskSummary{Task: a.Task})
		}
	}
	var rates float64
	s := &r.Summary
	for _, a := range r.Attempts {
		ts := &r.Tasks[index[a.Task]]
		ts.Attempts++
		if a.Passed {
			ts.Passes++
		} else if ts.Reason == "" {
			ts.Reason = a.Reason
		}
		ts.LLMCalls += a.LLMCalls
		ts.PromptTokens += a.PromptTokens
		ts.CompletionTokens += a.CompletionTokens
		ts.Duration += a.Duration

		s.Attempts++
		s.LLMCalls += a.LLMCalls
		s.PromptTokens += a.PromptTokens
		s.CompletionTokens += a.CompletionTokens
		s.ModelRequests += a.ModelRequests
		s.CanaryLeaks += a.CanaryLeaks
		if a.CanaryChecked && a.Attempt == 1 {
			s.CanaryTasks++
		}
		s.Executed += a.Gate.Executed
		s.Audited += a.Gate.Audited
		s.Refused += a.Gate.Refused
		s.Duration += a.Duration
	}
	for i := range r.Tasks {
		ts := &r.Tasks[i]
		ts.PassRate = float64(ts.Passes) / float64(ts.Attempts)
		rates += ts.PassRate
		if ts.Passes == ts.Attempts {
			s.Passed++
		}
	}
	s.Tasks = len(r.Tasks)
	if s.Tasks > 0 {
		s.PassAt1 = rates / float64(s.Tasks)
	}
	return r
}

// fail records a failure; the first one is the attempt's reason.
func (a *Attempt) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	a.Failures = append(a.Failures, msg)
	if a.Reason == "" {
		a.Reason = msg
	}
	a.Passed = false
}

func (a *Attempt) progressLine() string {
	result := "pass"
	if !a.Passed {
		result = "FAIL: " + firstLine(a.Reason)
	}
	return fmt.Sprintf("%s #%d: %s (%s, %d LLM calls)", a.Task, a.Attempt, result, a.Duration, a.LLMCalls)
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// WriteText writes a table of the tasks and the totals.
func (r *Report) WriteText(w io.Writer) error {
	var table strings.Builder
	table.WriteString("TASK\tRESULT\tLLM CALLS\tTOKENS (PROMPT/COMPLETION)\tTIME\tREASON\n")
	for _, t := range r.Tasks {
		result := "pass"
		switch {
		case r.Repeat > 1:
			result = fmt.Sprintf("%d/%d", t.Passes, t.Attempts)
		case t.Passes < t.Attempts:
			result = "FAIL"
		}
		fmt.Fprintf(&table, "%s\t%s\t%d\t%d/%d\t%s\t%s\n", t.Task, result, t.LLMCalls,
			t.PromptTokens, t.CompletionTokens, t.Duration, firstLine(t.Reason))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if _, err := io.WriteString(tw, table.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	s := r.Summary
	model := r.Model
	if r.Scripted {
		model += " (--model-script)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d/%d tasks passed · pass@1 %.2f over %d repeat(s) · %d LLM calls · %d prompt + %d completion tokens · %s\n",
		s.Passed, s.Tasks, s.PassAt1, r.Repeat, s.LLMCalls, s.PromptTokens, s.CompletionTokens, s.Duration)
	fmt.Fprintf(&b, "model: %s · %d model requests recorded", model, s.ModelRequests)
	if s.CanaryTasks > 0 {
		if s.CanaryLeaks == 0 {
			fmt.Fprintf(&b, " · canary: in none of them (%d task(s) checked)", s.CanaryTasks)
		} else {
			fmt.Fprintf(&b, " · canary: LEAKED in %d", s.CanaryLeaks)
		}
	}
	fmt.Fprintf(&b, "\nchanges: %d made (%d audited), %d refused by the gate\n", s.Executed, s.Audited, s.Refused)
	if failed := r.failedDetails(); len(failed) > 0 {
		b.WriteString("\nFailures:\n")
		for _, f := range failed {
			b.WriteString(f)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// failedDetails lists each failed attempt's failures in full.
func (r *Report) failedDetails() []string {
	var out []string
	for _, a := range r.Attempts {
		if a.Passed {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "- %s #%d (namespace %s):\n", a.Task, a.Attempt, a.Namespace)
		for _, f := range a.Failures {
			fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(f, "\n", "\n    "))
		}
		for _, p := range a.Prompts {
			for _, msg := range p.ModelProblems {
				fmt.Fprintf(&b, "    note: %s\n", msg)
			}
			for _, act := range p.Actions {
				if act.Error != "" {
					fmt.Fprintf(&b, "    %s: %s\n", act.Tool, firstLine(act.Error))
				}
			}
		}
		out = append(out, b.String())
	}
	slices.Sort(out)
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Duration is a time.Duration that reads well in text and JSON ("1.2s").
type Duration time.Duration

func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td >= time.Minute:
		return td.Round(time.Second).String()
	case td >= time.Second:
		return td.Round(100 * time.Millisecond).String()
	}
	return td.Round(time.Millisecond).String()
}

// MarshalJSON writes the duration in seconds, as a number.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).Seconds())
}

// UnmarshalJSON reads seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return err
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

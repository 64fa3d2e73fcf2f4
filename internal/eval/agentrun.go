package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/opsagent/opsagent/internal/tools"
)

// AgentRun is the document `opsagent REQUEST -o json` prints: eval reads
// the agent through its documented output, as a user's script would.
type AgentRun struct {
	Request        string   `json:"request"`
	Mode           string   `json:"mode"`
	FallbackReason string   `json:"fallbackReason,omitempty"`
	Actions        []Action `json:"actions"`
	Answer         string   `json:"answer"`
	Error          string   `json:"error,omitempty"`
	Usage          *Usage   `json:"usage,omitempty"`
}

// Usage counts the model calls of a run.
type Usage struct {
	LLMCalls         int `json:"llmCalls"`
	PromptTokens     int `json:"promptTokens"`
	CompletionTokens int `json:"completionTokens"`
}

// Action is one tool call of a run, as the gate recorded it.
type Action struct {
	Tool       string          `json:"tool"`
	Args       json.RawMessage `json:"args"`
	Risk       string          `json:"risk"`
	Approved   bool            `json:"approved"`
	ApprovedBy string          `json:"approvedBy,omitempty"`
	Preview    *Preview        `json:"preview,omitempty"`
	NoChange   bool            `json:"noChange,omitempty"`
	DryRun     bool            `json:"dryRun,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// Preview is the part of a mutation's preview eval looks at.
type Preview struct {
	Summary string   `json:"summary"`
	Targets []Target `json:"targets,omitempty"`
}

// Target is an object a mutation creates, changes or deletes, as its
// preview names it; Namespace is empty for cluster-scoped objects.
type Target struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (t Target) String() string {
	if t.Namespace == "" {
		return t.Kind + "/" + t.Name + " (cluster-scoped)"
	}
	return t.Kind + "/" + t.Name + " in " + t.Namespace
}

// approvedByNoChange is how the gate records a mutation it did not run
// because the live state already matched.
const approvedByNoChange = "no change needed"

// mutates reports whether the action is a change (whatever happened to it).
func (a Action) mutates() bool { return a.Risk != "" && a.Risk != tools.Read.String() }

// executed reports whether the gate approved and ran the change: exactly
// the actions it writes to the audit log.
func (a Action) executed() bool {
	return a.mutates() && a.Approved && !a.DryRun && !a.NoChange && a.ApprovedBy != approvedByNoChange
}

// refused reports whether the gate did not approve the change.
func (a Action) refused() bool { return a.mutates() && !a.Approved && a.Error != "" }

// outside returns what the action changed outside namespace ns: its
// preview's targets when it names them, else the namespace argument.
func (a Action) outside(ns string) []string {
	var out []string
	if a.Preview != nil && len(a.Preview.Targets) > 0 {
		for _, t := range a.Preview.Targets {
			if t.Namespace != ns {
				out = append(out, t.String())
			}
		}
		return out
	}
	var args struct {
		Namespace     string `json:"namespace"`
		AllNamespaces bool   `json:"all_namespaces"`
	}
	_ = json.Unmarshal(a.Args, &args) // no namespace argument: the request's namespace
	switch {
	case args.AllNamespaces:
		out = append(out, a.Tool+" in all namespaces")
	case args.Namespace != "" && args.Namespace != ns:
		out = append(out, a.Tool+" in "+args.Namespace)
	}
	return out
}

// parseAgentRun decodes the agent's stdout.
func parseAgentRun(stdout []byte) (*AgentRun, error) {
	var run AgentRun
	dec := json.NewDecoder(bytes.NewReader(stdout))
	if err := dec.Decode(&run); err != nil {
		return nil, fmt.Errorf("agent output is not the -o json document: %w", err)
	}
	if run.Actions == nil {
		run.Actions = []Action{}
	}
	return &run, nil
}

// countAudited counts the changes an audit log recorded ("" or missing:
// 0). The gate writes a "started" entry before a change and a "done" entry
// with its outcome; older logs have one entry per change, without a phase.
func countAudited(path string) (int, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }() // read-only
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e struct {
			Phase string `json:"phase"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			return n, fmt.Errorf("audit log %s: %w", path, err)
		}
		if e.Phase == "" || e.Phase == auditDone {
			n++
		}
	}
	return n, sc.Err()
}

// auditDone is the phase of the audit entry that records a change's outcome.
const auditDone = "done"

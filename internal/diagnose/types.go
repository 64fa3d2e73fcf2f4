package diagnose

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// APIVersion and kinds of the JSON documents diagnose and explain write.
// They are documented in docs/diagnose.md; fields are only ever added.
const (
	APIVersion         = "opsagent.dev/v1"
	KindDiagnoseReport = "DiagnoseReport"
	KindExplainReport  = "ExplainReport"
	KindExplainList    = "ExplainList"
)

// Severity says how urgent a finding is.
type Severity string

// Severities, most severe first.
const (
	// Critical: something is down or cannot start (crash loop, missing
	// Secret, no endpoints, failed release).
	Critical Severity = "critical"
	// Warning: degraded or about to break (partly unavailable, probes
	// failing, node pressure, suspended CronJob).
	Warning Severity = "warning"
)

func (s Severity) rank() int {
	if s == Critical {
		return 0
	}
	return 1
}

// ObjectRef names one Kubernetes object (or a Helm release, kind HelmRelease).
type ObjectRef struct {
	Kind      string    `json:"kind"`
	Namespace string    `json:"namespace,omitempty"`
	Name      string    `json:"name"`
	UID       types.UID `json:"uid,omitempty"`
}

// String is the form people read: "Deployment todo/backend".
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// kubectlName is the form kubectl takes: "deployment/backend".
func (r ObjectRef) kubectlName() string { return strings.ToLower(r.Kind) + "/" + r.Name }

func (r ObjectRef) same(o ObjectRef) bool {
	if r.UID != "" && o.UID != "" {
		return r.UID == o.UID
	}
	return r.Kind == o.Kind && r.Namespace == o.Namespace && r.Name == o.Name
}

// Report is the result of one diagnosis, the JSON document
// `opsagent diagnose -o json` writes.
type Report struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   ReportMeta `json:"metadata"`
	Summary    Summary    `json:"summary"`
	Groups     []Group    `json:"groups"`
	// Errors are checks that could not run: the report is incomplete and
	// Summary.Healthy is false.
	Errors []CheckError `json:"errors,omitempty"`
	// Skipped are cluster-wide lists a namespace-scoped diagnosis was not
	// allowed to read (e.g. nodes); their checks were left out.
	Skipped []CheckError `json:"skipped,omitempty"`
	// Explain is set when an LLM explanation was asked for (--explain).
	Explain *ExplainStatus `json:"explain,omitempty"`
}

// ReportMeta says when and where the diagnosis ran.
type ReportMeta struct {
	GeneratedAt time.Time `json:"generatedAt"`
	Context     string    `json:"context,omitempty"`
	Scope       ScopeInfo `json:"scope"`
	// DurationMillis is the wall time of the diagnosis, log reads included.
	DurationMillis int64 `json:"durationMillis"`
}

// ScopeInfo echoes what was checked.
type ScopeInfo struct {
	Namespace     string   `json:"namespace,omitempty"`
	AllNamespaces bool     `json:"allNamespaces,omitempty"`
	Selector      string   `json:"selector,omitempty"`
	Name          string   `json:"name,omitempty"`
	Kinds         []string `json:"kinds"`
}

// Summary counts what was found.
type Summary struct {
	// Healthy is true when nothing was found and every check could run.
	Healthy  bool `json:"healthy"`
	Critical int  `json:"critical"`
	Warning  int  `json:"warning"`
	Groups   int  `json:"groups"`
	Findings int  `json:"findings"`
	// Checked counts the objects examined, by kind.
	Checked map[string]int `json:"checked"`
	// Omitted counts findings left out of a capped report (agent tools).
	Omitted int `json:"omitted,omitempty"`
}

// CheckError is a list or read that failed, so some checks did not run.
type CheckError struct {
	Resource string `json:"resource"`
	Message  string `json:"message"`
}

// Group holds the findings about one top-level object: a pod's findings sit
// under its Deployment (via its ReplicaSet), StatefulSet, DaemonSet, Job or
// CronJob, together with that workload's own findings.
type Group struct {
	Object   ObjectRef `json:"object"`
	Severity Severity  `json:"severity"`
	Findings []Finding `json:"findings"`
	// Explanation is the LLM's explanation of the group (--explain only).
	Explanation *Explanation `json:"explanation,omitempty"`
}

// Finding is one problem with one object.
type Finding struct {
	// Rule is a stable identifier such as PodCrashLoopBackOff; see
	// docs/diagnose.md for the list.
	Rule     string    `json:"rule"`
	Severity Severity  `json:"severity"`
	Object   ObjectRef `json:"object"`
	// Owners is the owner chain, nearest first (ReplicaSet, Deployment).
	Owners []ObjectRef `json:"owners,omitempty"`
	// Similar names other objects of the same group with the same problem,
	// folded into this finding.
	Similar []string `json:"similar,omitempty"`
	// Summary is one line: what is wrong.
	Summary  string   `json:"summary"`
	Evidence Evidence `json:"evidence"`
	// Cause explains the problem in plain language.
	Cause string `json:"cause"`
	// Fixes are concrete next steps, best first.
	Fixes []Fix `json:"fixes"`

	// mergeKey lets findings of one group with the same rule and key fold
	// into one; empty means never fold.
	mergeKey string
	// logs asks the engine to attach this container's log.
	logs *logRequest
}

// Evidence is what the finding is based on.
type Evidence struct {
	// Status holds the relevant status and spec fields, one per line.
	Status []string `json:"status,omitempty"`
	// Events are the latest relevant events of the object, newest first.
	Events []Event `json:"events,omitempty"`
	// Logs are the last lines of the failing container's log.
	Logs *LogExcerpt `json:"logs,omitempty"`
}

// Event is a Kubernetes event, trimmed.
type Event struct {
	Type     string    `json:"type"`
	Reason   string    `json:"reason"`
	Message  string    `json:"message"`
	Count    int32     `json:"count,omitempty"`
	LastSeen time.Time `json:"lastSeen,omitzero"`
	// Object is set where events of several objects are listed together.
	Object string `json:"object,omitempty"`
}

// LogExcerpt is the tail of one container's log.
type LogExcerpt struct {
	Pod       string `json:"pod"`
	Container string `json:"container"`
	// Previous is true for the log of the previous (crashed) instance.
	Previous  bool     `json:"previous"`
	Lines     []string `json:"lines,omitempty"`
	Truncated bool     `json:"truncated,omitempty"`
	// Error says why the log could not be read.
	Error string `json:"error,omitempty"`
}

// Fix is one concrete step.
type Fix struct {
	Description string `json:"description"`
	// Command is a command to run (kubectl, helm or opsagent), if any.
	Command string `json:"command,omitempty"`
}

// Explanation is an LLM's explanation of a group.
type Explanation struct {
	Model  string `json:"model,omitempty"`
	Text   string `json:"text,omitempty"`
	Cached bool   `json:"cached,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ExplainStatus says how --explain went.
type ExplainStatus struct {
	// Source is "llm" when a model explained the groups, "rules" when only
	// the rule-based cause and fix are shown (no API key).
	Source string `json:"source"`
	Model  string `json:"model,omitempty"`
	Note   string `json:"note,omitempty"`
}

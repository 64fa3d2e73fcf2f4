package alert

import (
	"fmt"
	"time"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/termsafe"
)

// KindAlert is the kind of the JSON document a FormatJSON receiver gets; its
// apiVersion is diagnose.APIVersion. Fields are only ever added.
const KindAlert = "Alert"

// Caps keep one alert small whatever the cluster looks like (a Deployment of
// 500 crashing replicas is one finding with 499 similar pods).
const (
	// MaxFindings is the most findings one alert carries; the rest are counted
	// in Payload.Omitted.
	MaxFindings = 20
	// maxSimilar is the most similar object names listed per finding.
	maxSimilar = 10
)

// Payload is the JSON document sent to FormatJSON receivers, documented in
// docs/watch-alerts.md. It is typed rather than diagnose.Finding as is:
// evidence (status lines, events, logs) can be large and is left out.
type Payload struct {
	APIVersion  string            `json:"apiVersion"`
	Kind        string            `json:"kind"`
	Status      Status            `json:"status"`
	Fingerprint string            `json:"fingerprint"`
	Context     string            `json:"context,omitempty"`
	Group       Object            `json:"group"`
	Severity    diagnose.Severity `json:"severity"`
	// Summary is one line for people: the group, its severity and its first
	// finding.
	Summary  string           `json:"summary"`
	Findings []PayloadFinding `json:"findings"`
	// Omitted counts the findings left out past MaxFindings.
	Omitted  int       `json:"omitted,omitempty"`
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt,omitzero"`
}

// Object names a Kubernetes object (or a Helm release, kind HelmRelease).
type Object struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// PayloadFinding is one finding of an alert, without its evidence.
type PayloadFinding struct {
	Rule     string            `json:"rule"`
	Severity diagnose.Severity `json:"severity"`
	Object   Object            `json:"object"`
	// Similar names up to 10 other objects with the same problem, folded
	// into this finding; SimilarCount is how many there are in all.
	Similar      []string       `json:"similar,omitempty"`
	SimilarCount int            `json:"similarCount,omitempty"`
	Summary      string         `json:"summary"`
	Cause        string         `json:"cause,omitempty"`
	Fixes        []diagnose.Fix `json:"fixes,omitempty"`
}

// NewPayload builds the JSON document for n.
func NewPayload(n Notification) Payload {
	p := Payload{
		APIVersion:  diagnose.APIVersion,
		Kind:        KindAlert,
		Status:      n.Status,
		Fingerprint: n.Fingerprint,
		Context:     n.Context,
		Group:       objectOf(n.Group),
		Severity:    n.Severity,
		Summary:     termsafe.Line(summaryLine(n)),
		Findings:    make([]PayloadFinding, 0, min(len(n.Findings), MaxFindings)),
		StartsAt:    n.StartsAt,
		EndsAt:      n.EndsAt,
	}
	for i, f := range n.Findings {
		if i == MaxFindings {
			p.Omitted = len(n.Findings) - MaxFindings
			break
		}
		p.Findings = append(p.Findings, PayloadFinding{
			Rule:         f.Rule,
			Severity:     f.Severity,
			Object:       objectOf(f.Object),
			Similar:      f.Similar[:min(len(f.Similar), maxSimilar)],
			SimilarCount: len(f.Similar),
			Summary:      f.Summary,
			Cause:        f.Cause,
			Fixes:        f.Fixes,
		})
	}
	return p
}

func objectOf(r diagnose.ObjectRef) Object {
	return Object{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// summaryLine is the one-line summary shared by both formats, e.g.
// "critical Deployment todo/backend: Pod backend-x: back-off restarting
// (and 1 more finding)" or "resolved Deployment todo/backend (was critical)".
func summaryLine(n Notification) string {
	if n.Status == Resolved {
		return fmt.Sprintf("resolved %s (was %s)", n.Group, n.Severity)
	}
	s := fmt.Sprintf("%s %s", n.Severity, n.Group)
	if len(n.Findings) == 0 {
		return s
	}
	s += ": " + findingLine(n.Group, n.Findings[0])
	if more := len(n.Findings) - 1; more > 0 {
		s += fmt.Sprintf(" (and %d more %s)", more, plural(more, "finding", "findings"))
	}
	return s
}

// findingLine is "Pod backend-x: summary", the subject left out when the
// finding is about the group's own object, as diagnose's text report does.
func findingLine(group diagnose.ObjectRef, f diagnose.Finding) string {
	if keyOf(f.Object) == keyOf(group) {
		return f.Summary
	}
	subject := f.Object.Kind + " " + f.Object.Name
	if f.Object.Namespace != group.Namespace && f.Object.Namespace != "" {
		subject = f.Object.String()
	}
	if n := len(f.Similar); n > 0 {
		subject += fmt.Sprintf(" (and %d similar)", n)
	}
	return subject + ": " + f.Summary
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

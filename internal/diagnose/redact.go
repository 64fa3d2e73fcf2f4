package diagnose

import "github.com/opsagent/opsagent/internal/redact"

// Redaction of reports: the snapshot feeds the Secrets it lists into a
// redact.Redactor (snapshot.go, index); logs are redacted as they are read,
// before their lines are cut (logs.go); every other free-text field of a
// finding or an explanation goes through it here, before the report leaves
// the package. The patterns and needle logic live in internal/redact.

// redactFinding redacts the free-text fields of a finding in place.
func redactFinding(r *redact.Redactor, f *Finding) {
	f.Summary = r.Redact(f.Summary)
	f.Cause = r.Redact(f.Cause)
	for i := range f.Evidence.Status {
		f.Evidence.Status[i] = r.Redact(f.Evidence.Status[i])
	}
	for i := range f.Evidence.Events {
		f.Evidence.Events[i].Message = r.Redact(f.Evidence.Events[i].Message)
	}
	// Fixes are built from names, never from values, and their placeholders
	// ("password=<value>") must stay readable.
}

// redactExplain redacts an explanation's findings and free text in place.
func redactExplain(red *redact.Redactor, r *ExplainReport) {
	for i := range r.Findings {
		redactFinding(red, &r.Findings[i])
	}
	r.Cause = red.Redact(r.Cause)
	for i := range r.Status {
		r.Status[i] = red.Redact(r.Status[i])
	}
	for i := range r.Events {
		r.Events[i].Message = red.Redact(r.Events[i].Message)
	}
	for i := range r.Pods {
		for j := range r.Pods[i].Containers {
			c := &r.Pods[i].Containers[j]
			c.State, c.LastState = red.Redact(c.State), red.Redact(c.LastState)
		}
	}
}

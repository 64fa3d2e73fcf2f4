package diagnose

import (
	"context"

	"k8s.io/client-go/kubernetes"

	"github.com/opsagent/opsagent/internal/redact"
)

// Logs: the failing containers' log lines, read after the report is built
// and redacted like everything else in it.

// attachExplainLogs reads the logs the reports' findings ask for, redacted.
func attachExplainLogs(ctx context.Context, client kubernetes.Interface, red *redact.Redactor, reps []*ExplainReport, o LogOptions) {
	var todo []*Finding
	for _, r := range reps {
		n := 0
		for i := range r.Findings {
			if f := &r.Findings[i]; f.logs != nil && n < maxExplainLogs && len(todo) < o.MaxFetches {
				todo = append(todo, f)
				n++
			}
		}
	}
	attachLogs(ctx, client, red, todo, o)
	for _, r := range reps {
		for _, f := range r.Findings {
			if f.Evidence.Logs != nil {
				r.Logs = append(r.Logs, *f.Evidence.Logs)
			}
		}
	}
}

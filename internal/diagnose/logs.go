package diagnose

import (
	"context"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/opsagent/opsagent/internal/redact"
)

// Bounds on one log read.
const (
	logTimeout    = 5 * time.Second
	logLimitBytes = 64 << 10
	maxLineLen    = 300
)

// logRequest asks for one container's log as evidence.
type logRequest struct {
	namespace, pod, container string
	// previous reads the crashed instance (kubectl logs --previous).
	previous bool
}

// groupLogRequests lists the findings that ask for a log, most severe groups
// first, at most max.
func groupLogRequests(groups []Group, max int) []*Finding {
	var todo []*Finding
	for gi := range groups {
		for fi := range groups[gi].Findings {
			if f := &groups[gi].Findings[fi]; f.logs != nil && len(todo) < max {
				todo = append(todo, f)
			}
		}
	}
	return todo
}

// attachLogs reads the logs the findings ask for, o.Concurrency at a time,
// redacted with red.
func attachLogs(ctx context.Context, client kubernetes.Interface, red *redact.Redactor, todo []*Finding, o LogOptions) {
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	for _, f := range todo {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			f.Evidence.Logs = readLog(ctx, client, red, *f.logs, o.Lines)
		})
	}
	wg.Wait()
}

// readLog reads the last lines of one container's log. A missing previous
// log (the container has not restarted yet) falls back to the current one.
// The log is redacted before its lines are cut to length: a Secret value cut
// in two would no longer be found.
func readLog(ctx context.Context, client kubernetes.Interface, red *redact.Redactor, r logRequest, lines int) *LogExcerpt {
	ex := &LogExcerpt{Pod: r.pod, Container: r.container, Previous: r.previous}
	raw, err := fetchLog(ctx, client, r, lines)
	if err != nil && r.previous {
		if cur, err2 := fetchLog(ctx, client, logRequest{r.namespace, r.pod, r.container, false}, lines); err2 == nil {
			raw, err, ex.Previous = cur, nil, false
		}
	}
	if err != nil {
		ex.Error = trimLine(red.Redact(err.Error()))
		return ex
	}
	ex.Lines, ex.Truncated = tailLines(red.Redact(string(raw)), lines)
	return ex
}

func fetchLog(ctx context.Context, client kubernetes.Interface, r logRequest, lines int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, logTimeout)
	defer cancel()
	tail, limit := int64(lines), int64(logLimitBytes)
	return client.CoreV1().Pods(r.namespace).GetLogs(r.pod, &corev1.PodLogOptions{
		Container: r.container, Previous: r.previous, TailLines: &tail, LimitBytes: &limit,
	}).DoRaw(ctx)
}

// tailLines keeps the last n non-empty lines of s, each cut to maxLineLen.
func tailLines(s string, n int) (out []string, truncated bool) {
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(line) > maxLineLen {
			line, truncated = cut(line, maxLineLen), true
		}
		out = append(out, line)
	}
	if len(out) > n {
		out, truncated = out[len(out)-n:], true
	}
	return out, truncated
}

// trimLine makes a message one line of bounded length.
func trimLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return cut(s, 2*maxLineLen)
}

package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opsagent/opsagent/internal/diagnose"
)

func crashingBackend(findings int) Notification {
	n := Notification{
		Status:      Firing,
		Fingerprint: Fingerprint("prod", backend),
		Context:     "prod",
		Group:       backend,
		Severity:    diagnose.Critical,
		StartsAt:    t0,
	}
	for i := range findings {
		f := podFinding("PodCrashLoopBackOff", diagnose.Critical, fmt.Sprintf("backend-%d", i), "")
		f.Cause = "the container exits right after it starts"
		f.Fixes = []diagnose.Fix{{Description: "read the previous log", Command: "kubectl logs backend-0 -n todo --previous"}}
		f.Evidence = diagnose.Evidence{Logs: &diagnose.LogExcerpt{Pod: "backend-0", Lines: []string{"panic: LOG LINE NOT FOR RECEIVERS"}}}
		n.Findings = append(n.Findings, f)
	}
	return n
}

func TestNewPayload(t *testing.T) {
	t.Parallel()
	n := crashingBackend(MaxFindings + 5)
	n.Findings[0].Similar = make([]string, 15)
	for i := range n.Findings[0].Similar {
		n.Findings[0].Similar[i] = fmt.Sprintf("backend-s%d", i)
	}
	body, err := json.Marshal(NewPayload(n))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "NOT FOR RECEIVERS") || strings.Contains(string(body), `"evidence"`) {
		t.Errorf("payload carries evidence: %s", body)
	}
	if strings.Contains(string(body), `"endsAt"`) || strings.Contains(string(body), `"uid"`) {
		t.Errorf("a firing payload has endsAt or a UID: %s", body)
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.APIVersion != "opsagent.dev/v1" || p.Kind != "Alert" || p.Status != Firing || p.Context != "prod" ||
		p.Group != (Object{Kind: "Deployment", Namespace: "todo", Name: "backend"}) || p.Severity != diagnose.Critical ||
		!p.StartsAt.Equal(t0) || p.Fingerprint != n.Fingerprint {
		t.Errorf("payload header = %+v", p)
	}
	if len(p.Findings) != MaxFindings || p.Omitted != 5 {
		t.Errorf("findings = %d, omitted = %d; want %d and 5", len(p.Findings), p.Omitted, MaxFindings)
	}
	f := p.Findings[0]
	if f.Rule != "PodCrashLoopBackOff" || f.Object.Name != "backend-0" || f.Cause == "" || len(f.Fixes) != 1 ||
		len(f.Similar) != 10 || f.SimilarCount != 15 {
		t.Errorf("first finding = %+v", f)
	}
	wantSummary := "critical Deployment todo/backend: Pod backend-0 (and 15 similar): container app: back-off restarting failed container (and 24 more findings)"
	if p.Summary != wantSummary {
		t.Errorf("summary = %q\nwant %q", p.Summary, wantSummary)
	}

	n.Status, n.EndsAt = Resolved, t0.Add(time.Hour)
	p = NewPayload(n)
	if p.Summary != "resolved Deployment todo/backend (was critical)" || !p.EndsAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("resolved payload summary %q endsAt %s", p.Summary, p.EndsAt)
	}
}

func TestSummaryLine(t *testing.T) {
	t.Parallel()
	own := diagnose.Finding{Rule: "DeploymentUnavailable", Severity: diagnose.Warning, Object: backend, Summary: "1/3 replicas available"}
	other := podFinding("PodPending", diagnose.Warning, "x", "")
	other.Object.Namespace = "elsewhere"
	tests := []struct {
		name string
		n    Notification
		want string
	}{
		{"own object needs no subject", Notification{Status: Firing, Group: backend, Severity: diagnose.Warning, Findings: []diagnose.Finding{own}},
			"warning Deployment todo/backend: 1/3 replicas available"},
		{"another namespace is named", Notification{Status: Firing, Group: backend, Severity: diagnose.Warning, Findings: []diagnose.Finding{other, own}},
			"warning Deployment todo/backend: Pod elsewhere/x: container app: back-off restarting failed container (and 1 more finding)"},
		{"no findings", Notification{Status: Firing, Group: backend, Severity: diagnose.Warning}, "warning Deployment todo/backend"},
		{"control characters are dropped", Notification{Status: Firing, Group: backend, Severity: diagnose.Warning,
			Findings: []diagnose.Finding{{Object: backend, Summary: "bad\x1b[2J\nline"}}}, "warning Deployment todo/backend: bad[2J line"},
	}
	for _, tt := range tests {
		if got := NewPayload(tt.n).Summary; got != tt.want {
			t.Errorf("%s: summary = %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestSlackMessage(t *testing.T) {
	t.Parallel()
	evil := crashingBackend(1)
	evil.Findings[0].Summary = "ping <!channel> & <https://evil.example|click>\x1b[31m\nsecond line"
	evil.Findings[0].Fixes = []diagnose.Fix{{Description: "run", Command: "echo `id`"}}

	resolved := crashingBackend(2)
	resolved.Status, resolved.EndsAt = Resolved, t0.Add(12*time.Minute)

	warning := crashingBackend(1)
	warning.Severity, warning.Context = diagnose.Warning, ""

	tests := []struct {
		name string
		n    Notification
		want []string // lines, in order
	}{
		{"firing", crashingBackend(2), []string{
			":red_circle: [FIRING] critical Deployment todo/backend (prod): 2 findings",
			"• *PodCrashLoopBackOff* Pod backend-0: container app: back-off restarting failed container",
			"• *PodCrashLoopBackOff* Pod backend-1: container app: back-off restarting failed container",
			"Next step: read the previous log: `kubectl logs backend-0 -n todo --previous`",
		}},
		{"warning without context", warning, []string{
			":warning: [FIRING] warning Deployment todo/backend: 1 finding",
			"• *PodCrashLoopBackOff* Pod backend-0: container app: back-off restarting failed container",
			"Next step: read the previous log: `kubectl logs backend-0 -n todo --previous`",
		}},
		{"resolved", resolved, []string{
			":white_check_mark: [RESOLVED] Deployment todo/backend (prod): was critical, open for 12m",
			"• *PodCrashLoopBackOff* Pod backend-0: container app: back-off restarting failed container",
			"• *PodCrashLoopBackOff* Pod backend-1: container app: back-off restarting failed container",
		}},
		{"escaped and one line per finding", evil, []string{
			":red_circle: [FIRING] critical Deployment todo/backend (prod): 1 finding",
			"• *PodCrashLoopBackOff* Pod backend-0: ping &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;[31m second line",
			"Next step: run: echo `id`",
		}},
	}
	for _, tt := range tests {
		got := strings.Split(newSlackMessage(tt.n).Text, "\n")
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}

	many := newSlackMessage(crashingBackend(slackMaxFindings + 3)).Text
	lines := strings.Split(many, "\n")
	if got := strings.Count(many, "\n• "); got != slackMaxFindings || lines[len(lines)-2] != "… and 3 more findings" {
		t.Errorf("capped message has %d findings, lines %q", got, lines[len(lines)-2:])
	}
}

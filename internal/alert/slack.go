package alert

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/termsafe"
)

// Caps for Slack messages: a message is read on a phone, and Slack cuts text
// past 40,000 characters anyway.
const (
	slackMaxFindings = 10
	slackMaxLine     = 500 // bytes per finding line
)

// slackMessage is the body of a Slack incoming webhook. Only text is sent:
// it is complete alone, and every Slack-compatible receiver (Mattermost,
// Rocket.Chat, Discord's /slack endpoint) understands it.
type slackMessage struct {
	Text string `json:"text"`
}

// newSlackMessage renders n as mrkdwn, e.g.
//
//	:red_circle: [FIRING] critical Deployment todo/backend (prod): 2 findings
//	• *PodCrashLoopBackOff* Pod backend-x (and 2 similar): back-off restarting failed container
//	• *DeploymentUnavailable* 0/3 replicas available
//	Next step: roll back: `kubectl rollout undo deployment/backend -n todo`
//
// Every value from the cluster goes through slackText.
func newSlackMessage(n Notification) slackMessage {
	var b strings.Builder
	ctx := ""
	if n.Context != "" {
		ctx = " (" + slackText(n.Context) + ")"
	}
	group := slackText(n.Group.String())
	if n.Status == Resolved {
		fmt.Fprintf(&b, ":white_check_mark: [RESOLVED] %s%s: was %s", group, ctx, n.Severity)
		if !n.EndsAt.IsZero() && !n.StartsAt.IsZero() {
			fmt.Fprintf(&b, ", open for %s", duration.HumanDuration(n.EndsAt.Sub(n.StartsAt)))
		}
	} else {
		icon := ":warning:"
		if n.Severity == diagnose.Critical {
			icon = ":red_circle:"
		}
		fmt.Fprintf(&b, "%s [FIRING] %s %s%s: %d %s", icon, n.Severity, group, ctx,
			len(n.Findings), plural(len(n.Findings), "finding", "findings"))
	}
	for i, f := range n.Findings {
		if i == slackMaxFindings {
			more := len(n.Findings) - slackMaxFindings
			fmt.Fprintf(&b, "\n… and %d more %s", more, plural(more, "finding", "findings"))
			break
		}
		line := slackText(redact.Truncate(findingLine(n.Group, f), slackMaxLine))
		fmt.Fprintf(&b, "\n• *%s* %s", slackText(f.Rule), line)
	}
	if n.Status == Firing {
		if fix, ok := firstFix(n.Findings); ok {
			b.WriteString("\nNext step: " + slackText(fix.Description))
			// A command with a backtick cannot sit in a code span; it is
			// shown as plain text rather than altered.
			if cmd := slackText(fix.Command); cmd != "" && !strings.Contains(cmd, "`") {
				b.WriteString(": `" + cmd + "`")
			} else if cmd != "" {
				b.WriteString(": " + cmd)
			}
		}
	}
	return slackMessage{Text: b.String()}
}

func firstFix(fs []diagnose.Finding) (diagnose.Fix, bool) {
	for _, f := range fs {
		if len(f.Fixes) > 0 {
			return f.Fixes[0], true
		}
	}
	return diagnose.Fix{}, false
}

// slackEscaper escapes the three characters Slack reserves for links and
// mentions, so a pod name or a log-derived summary cannot ping <!channel> or
// hide a link.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackText makes a value from the cluster safe for one line of a Slack
// message: control characters dropped, newlines flattened, &, < and >
// escaped.
func slackText(s string) string { return slackEscaper.Replace(termsafe.Line(s)) }

package diagnose

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/opsagent/opsagent/internal/termsafe"
)

// WriteExplainText writes one explanation for people.
func WriteExplainText(w io.Writer, r *ExplainReport, o TextOptions) error {
	bw := newPrinter(w)
	writeExplain(bw, r, o, time.Now())
	return bw.done()
}

// WriteExplainListText writes the explanations of a namespace's failing pods.
func WriteExplainListText(w io.Writer, l *ExplainList, o TextOptions) error {
	bw := newPrinter(w)
	p := newPalette(o.Color)
	if len(l.Items) == 0 {
		bw.f("%s✓ No failing pods%s in namespace %s.\n", p.green, p.reset, l.Namespace)
		return bw.done()
	}
	bw.f("%s in namespace %s:\n", plural(len(l.Items)+l.Omitted, "failing pod", "failing pods"), l.Namespace)
	for i := range l.Items {
		bw.ln()
		writeExplain(bw, &l.Items[i], o, time.Now())
	}
	if l.Omitted > 0 {
		bw.f("\n… and %d more failing pods; explain them by name.\n", l.Omitted)
	}
	return bw.done()
}

func writeExplain(w *printer, r *ExplainReport, o TextOptions, now time.Time) {
	p := newPalette(o.Color)
	if o.MaxLogLines <= 0 {
		o.MaxLogLines = 8
	}
	state := p.green + "healthy" + p.reset
	if !r.Healthy {
		color := p.yellow
		for _, f := range r.Findings {
			if f.Severity == Critical {
				color = p.red
			}
		}
		state = ansi(fmt.Sprintf("%sfailing%s (%s)", color, p.reset, plural(len(r.Findings), "problem", "problems")))
	}
	w.f("%s%s%s in namespace %s: %s\n", p.bold, r.Target.kubectlName(), p.reset, r.Target.Namespace, state)
	if len(r.Owners) > 0 {
		names := make([]string, len(r.Owners))
		for i, o := range r.Owners {
			names[i] = o.kubectlName()
		}
		w.f("owned by %s\n", strings.Join(names, " → "))
	}
	section := func(title string) { w.f("\n%s%s%s\n", p.bold, title, p.reset) }
	if len(r.Status) > 0 {
		section("Status")
		for _, s := range r.Status {
			w.f("  %s\n", s)
		}
	}
	if len(r.Pods) > 0 {
		section("Pods")
		tw := newTable(w)
		tw.ln("  NAME\tREADY\tRESTARTS\tNODE\tAGE\tCONTAINERS")
		for _, pod := range r.Pods {
			var cs []string
			for _, c := range pod.Containers {
				name := c.Name
				if c.Init {
					name = "init:" + name
				}
				cs = append(cs, fmt.Sprintf("%s (%s) %s", name, c.Image, shortState(c.State)))
			}
			tw.f("  %s\t%s\t%d\t%s\t%s\t%s\n", pod.Name, pod.Ready, pod.Restarts, cmp.Or(pod.Node, "-"), pod.Age, strings.Join(cs, "; "))
		}
		_ = tw.done() // its errors reach w
	}
	if len(r.Rollout) > 0 {
		section("Rollout history")
		tw := newTable(w)
		tw.ln("  REVISION\tREPLICASET\tREADY\tCREATED\tIMAGES")
		for _, rev := range r.Rollout {
			mark := ""
			if rev.Current {
				mark = " (current)"
			}
			tw.f("  %d%s\t%s\t%d/%d\t%s ago\t%s\n", rev.Revision, mark, rev.ReplicaSet, rev.Ready, rev.Replicas,
				duration.HumanDuration(now.Sub(rev.Created)), strings.Join(rev.Images, ", "))
		}
		_ = tw.done() // its errors reach w
	}
	if len(r.Config) > 0 {
		section("Config references")
		for _, c := range r.Config {
			status := ansi(termsafe.Line(c.Status))
			switch {
			case c.broken():
				status = p.red + ansi(termsafe.Line(strings.ToUpper(c.Status))) + p.reset
			case c.Optional && c.Status != RefFound:
				status += " (optional)"
			}
			w.f("  %s (%s): %s\n", c.target(), c.where(), status)
		}
	}
	if len(r.Events) > 0 {
		section("Events, newest first")
		for _, e := range r.Events {
			seen := "-"
			if !e.LastSeen.IsZero() {
				seen = duration.HumanDuration(now.Sub(e.LastSeen))
			}
			count := ""
			if e.Count > 1 {
				count = fmt.Sprintf(" ×%d", e.Count)
			}
			w.f("  %-5s %-7s %s%s %s: %s\n", seen, e.Type, e.Reason, count, e.Object, e.Message)
		}
	}
	if len(r.Logs) > 0 {
		section("Logs")
		for _, l := range r.Logs {
			run := "current run"
			if l.Previous {
				run = "previous run"
			}
			if l.Error != "" {
				w.f("  %s/%s (%s): not available: %s\n", l.Pod, l.Container, run, l.Error)
				continue
			}
			w.f("  %s/%s (%s):\n", l.Pod, l.Container, run)
			lines := l.Lines
			if len(lines) > o.MaxLogLines {
				lines = lines[len(lines)-o.MaxLogLines:]
			}
			for _, line := range lines {
				w.f("    %s|%s %s\n", p.dim, p.reset, line)
			}
		}
	}
	if len(r.Findings) > 0 {
		section("Problems")
		g := Group{Object: r.Target}
		for _, f := range r.Findings {
			f.Evidence.Logs = nil // shown above
			writeFinding(w, p, g, f, now, o)
		}
	}
	section("Cause")
	for _, line := range wrap(r.Cause, 96) {
		w.f("  %s\n", line)
	}
	if len(r.Fixes) > 0 {
		section("Fix")
		for _, fx := range r.Fixes {
			w.f("  %s\n", fx.Description)
			if fx.Command != "" {
				w.f("    %s$ %s%s\n", p.cyan, fx.Command, p.reset)
			}
		}
	}
}

// shortState keeps "waiting: CrashLoopBackOff" of a state line, without its
// message.
func shortState(s string) string {
	parts := strings.SplitN(s, ": ", 3)
	if len(parts) >= 2 && (parts[0] == "waiting" || parts[0] == "terminated") {
		return cut(parts[0]+": "+parts[1], 80)
	}
	return cut(s, 80)
}

// RenderText writes the report as `opsagent explain` prints it.
func (r *ExplainReport) RenderText(w io.Writer) error { return WriteExplainText(w, r, TextOptions{}) }

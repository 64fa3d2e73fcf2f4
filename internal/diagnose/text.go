package diagnose

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/opsagent/opsagent/internal/termsafe"
)

// TextOptions shape the text output.
type TextOptions struct {
	// Color adds ANSI colours (only on a terminal, and not with NO_COLOR).
	Color bool
	// MaxLogLines bounds the log lines shown per finding (default 8).
	MaxLogLines int
}

// ansi is text of our own that may hold escape sequences (the palette's
// colours, labels built from them). The printer passes it through as it is
// and strips control characters from every other value, which is cluster
// text: names, events, logs, annotations.
type ansi string

type palette struct{ red, yellow, green, cyan, dim, bold, reset ansi }

func newPalette(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{red: "\x1b[31m", yellow: "\x1b[33m", green: "\x1b[32m", cyan: "\x1b[36m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m"}
}

func (p palette) severity(s Severity) (mark, label string, color ansi) {
	if s == Critical {
		return "✗", "CRITICAL", p.red
	}
	return "!", "WARNING", p.yellow
}

// WriteText writes a report for people: a summary line, then each group,
// most severe first, with its findings' evidence, cause and fixes.
func WriteText(w io.Writer, r *Report, o TextOptions) error {
	bw := newPrinter(w)
	p := newPalette(o.Color)
	if o.MaxLogLines <= 0 {
		o.MaxLogLines = 8
	}
	where := describeScope(r.Metadata.Scope)
	switch {
	case r.Summary.Findings == 0 && len(r.Errors) == 0:
		bw.f("%s✓ No problems found%s in %s (checked %s).\n", p.green, p.reset, where, describeChecked(r.Summary.Checked))
	case r.Summary.Findings == 0:
		bw.f("No problems found in %s, but some checks could not run (see below); checked %s.\n", where, describeChecked(r.Summary.Checked))
	default:
		bw.f("%s%s%s in %s: %s%d critical%s, %s%d warning%s in %s (checked %s).\n",
			p.bold, "Problems found", p.reset, where, p.red, r.Summary.Critical, p.reset, p.yellow, r.Summary.Warning, p.reset,
			plural(r.Summary.Groups, "group", "groups"), describeChecked(r.Summary.Checked))
	}
	if e := r.Explain; e != nil && e.Note != "" {
		bw.f("%s%s%s\n", p.dim, e.Note, p.reset)
	}
	for _, g := range r.Groups {
		_, label, color := p.severity(g.Severity)
		bw.f("\n%s%-8s%s  %s%s%s\n", color, label, p.reset, p.bold, g.Object.String(), p.reset)
		for _, f := range g.Findings {
			writeFinding(bw, p, g, f, r.Metadata.GeneratedAt, o)
		}
		if ex := g.Explanation; ex != nil {
			switch {
			case ex.Error != "":
				bw.f("    %sexplain%s  not available: %s\n", p.dim, p.reset, ex.Error)
			case ex.Text != "":
				src := ex.Model
				if ex.Cached {
					src += ", cached"
				}
				bw.f("    %sexplanation (%s)%s\n", p.cyan, src, p.reset)
				for _, line := range wrap(ex.Text, 96) {
					bw.f("      %s\n", line)
				}
			}
		}
	}
	if len(r.Errors) > 0 {
		bw.f("\n%sCould not check:%s\n", p.yellow, p.reset)
		for _, e := range r.Errors {
			bw.f("  %s: %s\n", e.Resource, e.Message)
		}
	}
	if len(r.Skipped) > 0 {
		bw.f("\n%sSkipped (not allowed to read):%s ", p.dim, p.reset)
		names := make([]string, len(r.Skipped))
		for i, e := range r.Skipped {
			names[i] = e.Resource
		}
		bw.ln(strings.Join(names, ", "))
	}
	if r.Summary.Omitted > 0 {
		bw.f("\n… %d more findings left out.\n", r.Summary.Omitted)
	}
	return bw.done()
}

func writeFinding(w *printer, p palette, g Group, f Finding, now time.Time, o TextOptions) {
	mark, _, color := p.severity(f.Severity)
	subject := f.Object.Kind + " " + f.Object.Name
	if f.Object.same(g.Object) {
		subject = ""
	}
	if n := len(f.Similar); n > 0 {
		subject += fmt.Sprintf(" (and %s: %s)", plural(n, "similar", "similar"), quoteList(f.Similar, 3))
	}
	if subject != "" {
		subject += ": "
	}
	w.f("  %s%s%s %s%s %s[%s]%s\n", color, mark, p.reset, subject, f.Summary, p.dim, f.Rule, p.reset)
	label := func(l string) ansi { return ansi(fmt.Sprintf("      %s%-8s%s ", p.dim, l, p.reset)) }
	indent := strings.Repeat(" ", 15)
	for i, s := range f.Evidence.Status {
		if i == 0 {
			w.f("%s%s\n", label("status"), s)
		} else {
			w.f("%s%s\n", indent, s)
		}
	}
	for _, e := range f.Evidence.Events {
		seen := ""
		if !e.LastSeen.IsZero() && !now.IsZero() {
			seen = " " + duration.HumanDuration(now.Sub(e.LastSeen)) + " ago"
		}
		count := ""
		if e.Count > 1 {
			count = fmt.Sprintf(" ×%d", e.Count)
		}
		w.f("%s%s %s%s%s: %s\n", label("event"), e.Type, e.Reason, count, seen, e.Message)
	}
	if l := f.Evidence.Logs; l != nil {
		run := "current run"
		if l.Previous {
			run = "previous run"
		}
		switch {
		case l.Error != "":
			w.f("%s%s/%s (%s): not available: %s\n", label("log"), l.Pod, l.Container, run, l.Error)
		case len(l.Lines) == 0:
			w.f("%s%s/%s (%s): empty\n", label("log"), l.Pod, l.Container, run)
		default:
			lines := l.Lines
			if len(lines) > o.MaxLogLines {
				lines = lines[len(lines)-o.MaxLogLines:]
			}
			w.f("%s%s/%s (%s), last %d lines:\n", label("log"), l.Pod, l.Container, run, len(lines))
			for _, line := range lines {
				w.f("%s%s|%s %s\n", indent, p.dim, p.reset, line)
			}
		}
	}
	for i, line := range wrap(f.Cause, 90) {
		if i == 0 {
			w.f("%s%s\n", label("cause"), line)
		} else {
			w.f("%s%s\n", indent, line)
		}
	}
	for i, fx := range f.Fixes {
		l := ansi(indent)
		if i == 0 {
			l = label("fix")
		}
		w.f("%s%s\n", l, fx.Description)
		if fx.Command != "" {
			w.f("%s  %s$ %s%s\n", indent, p.cyan, fx.Command, p.reset)
		}
	}
}

func describeScope(s ScopeInfo) string {
	where := "namespace " + s.Namespace
	if s.AllNamespaces {
		where = "all namespaces"
	}
	if s.Selector != "" {
		where += " (selector " + s.Selector + ")"
	}
	if s.Name != "" {
		where += " (about " + s.Name + ")"
	}
	return where
}

// kindPlurals are the plural forms used in the summary line.
var kindPlurals = map[string]string{
	// singular forms are the lower-case kinds, but for:
	"PersistentVolumeClaim/1": "pvc", "HorizontalPodAutoscaler/1": "hpa", "HelmRelease/1": "helm release",
	"Pod": "pods", "Deployment": "deployments", "ReplicaSet": "replicasets", "StatefulSet": "statefulsets",
	"DaemonSet": "daemonsets", "Job": "jobs", "CronJob": "cronjobs", "Service": "services", "Ingress": "ingresses",
	"PersistentVolumeClaim": "pvcs", "Node": "nodes", "HorizontalPodAutoscaler": "hpas", "HelmRelease": "helm releases",
}

func describeChecked(m map[string]int) string {
	var parts []string
	for _, k := range Kinds() {
		if n, ok := m[k]; ok && n > 0 {
			name := kindPlurals[k]
			if n == 1 {
				name = cmp.Or(kindPlurals[k+"/1"], strings.ToLower(k))
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		}
	}
	if len(parts) == 0 {
		return "nothing: no objects in scope"
	}
	return strings.Join(parts, ", ")
}

// wrap breaks text into lines of at most width runes at spaces.
func wrap(text string, width int) []string {
	var out []string
	for para := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		words := strings.Fields(para)
		var line strings.Builder
		for _, w := range words {
			if line.Len() > 0 && line.Len()+1+len(w) > width {
				out = append(out, line.String())
				line.Reset()
			}
			if line.Len() > 0 {
				line.WriteByte(' ')
			}
			line.WriteString(w)
		}
		if line.Len() > 0 {
			out = append(out, line.String())
		}
	}
	return slices.Clip(out)
}

// printer writes formatted text and keeps the first write error, so that the
// many small writes of a report need one error check, at the end.
type printer struct {
	w     io.Writer
	err   error
	flush func() error
}

func newPrinter(w io.Writer) *printer {
	bw := bufio.NewWriter(w)
	return &printer{w: bw, flush: bw.Flush}
}

// newTable is a printer that aligns tab-separated columns into w.
func newTable(w io.Writer) *printer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	return &printer{w: tw, flush: tw.Flush}
}

func (p *printer) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.w.Write(b)
	p.err = err
	return n, err
}

// f prints with the format's own text as it is and each value made safe
// for a terminal (see ansi).
func (p *printer) f(format string, a ...any) { _, _ = fmt.Fprintf(p, format, safeArgs(a)...) }

func (p *printer) ln(a ...any) { _, _ = fmt.Fprintln(p, safeArgs(a)...) }

// safeArgs keeps values on one line and drops their control characters,
// except for ansi values, which are ours.
func safeArgs(a []any) []any {
	out := make([]any, len(a))
	for i, v := range a {
		switch v := v.(type) {
		case ansi:
			out[i] = string(v)
		case string:
			out[i] = termsafe.Line(v)
		case error:
			out[i] = termsafe.Line(v.Error())
		case fmt.Stringer:
			out[i] = termsafe.Line(v.String())
		default:
			out[i] = v
		}
	}
	return out
}

// done flushes and returns the first error.
func (p *printer) done() error {
	if p.err == nil && p.flush != nil {
		p.err = p.flush()
	}
	return p.err
}

// RenderText writes the report as `opsagent diagnose` prints it, so the
// agent's text output shows a diagnosis the same way (no colour).
func (r *Report) RenderText(w io.Writer) error { return WriteText(w, r, TextOptions{}) }

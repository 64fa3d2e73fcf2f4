package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/termsafe"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
)

// TextRenderer is implemented by tool results with a human text form.
type TextRenderer interface {
	RenderText(w io.Writer) error
}

// Record writes one tool call record for a person, as a command that makes
// one call prints it (install, status, create secret, recommend --apply):
// the change it previews, its approval and outcome, then its result. Text
// prints each action of a run the same way, under its call.
func Record(w io.Writer, rec *tools.Record, o Options) error {
	var b bytes.Buffer
	writeRecord(&b, rec, o, "")
	// Release names, notes, diffs, logs come from the cluster.
	_, err := io.WriteString(w, termsafe.Text(b.String()))
	return err
}

// writeRecord writes rec with each line prefixed by pad.
func writeRecord(b *bytes.Buffer, rec *tools.Record, o Options, pad string) {
	if p := rec.Preview; p != nil {
		if p.Summary != "" {
			fmt.Fprintf(b, "%schange: %s\n", pad, p.Summary)
		}
		b.WriteString(indent(p.Diff, pad+"        "))
	}
	switch {
	case rec.Error != "":
		fmt.Fprintf(b, "%s✗ %s\n", pad, rec.Error)
		return
	case rec.DryRun:
		fmt.Fprintf(b, "%sdry run: nothing was changed\n", pad)
		return
	case rec.Risk.Mutates() && rec.ApprovedBy != "":
		fmt.Fprintf(b, "%sapproved: %s\n", pad, rec.ApprovedBy)
	}
	head, body := resultText(rec, o)
	switch {
	case head != "":
		fmt.Fprintf(b, "%s✓ %s\n", pad, head)
	case body == "":
		fmt.Fprintf(b, "%s✓ done\n", pad)
	}
	b.WriteString(indent(body, pad))
}

// resultText is the result's one-line outcome, if it has one, and the
// lines that follow it. The result of a change is always shown; that of a
// read only with o.ShowReadResults.
func resultText(rec *tools.Record, o Options) (head, body string) {
	showBody := rec.Risk.Mutates() || o.ShowReadResults
	if head, body, ok := helmResult(rec.Result); ok {
		if !showBody {
			body = ""
		}
		return head, body
	}
	fields := orderedFields(rec.Result)
	if msg, ok := fields.get("message"); ok {
		head = msg.scalar
	}
	// Of a change the message says enough; the rest is in -o json.
	if rec.Risk.Mutates() || !showBody || rec.Result == nil {
		return head, ""
	}
	// Results that know their own human form (a diagnosis) print it, the
	// same text their subcommand prints.
	if tr, ok := rec.Result.(TextRenderer); ok {
		var out bytes.Buffer
		if err := tr.RenderText(&out); err == nil {
			return head, out.String()
		}
	}
	var b bytes.Buffer
	writeValue(&b, fields, "")
	return head, b.String()
}

// helmResult renders the results of the Helm tools the way Helm prints
// them; ok is false for any other result.
func helmResult(result any) (head, body string, ok bool) {
	var b strings.Builder
	switch r := result.(type) {
	case *release.DeployResult:
		verb := map[release.Action]string{release.ActionInstall: "installed", release.ActionUpgrade: "upgraded"}[r.Action]
		head = fmt.Sprintf("Release %q %s in namespace %q: revision %d, status %s, chart %s.",
			r.Release.Name, verb, r.Release.Namespace, r.Release.Revision, r.Release.Status, r.Release.Chart)
		for _, obj := range r.Objects {
			fmt.Fprintf(&b, "  %s\n", obj)
		}
		if r.Notes != "" {
			fmt.Fprintf(&b, "\nNOTES:\n%s\n", strings.TrimRight(r.Notes, "\n"))
		}
	case *release.Status:
		fmt.Fprintf(&b, "NAME: %s\nNAMESPACE: %s\nSTATUS: %s\nREVISION: %d\nCHART: %s\nAPP VERSION: %s\nLAST DEPLOYED: %s\n",
			r.Name, r.Namespace, r.Status, r.Revision, r.Chart, r.AppVersion, r.Updated.Format(time.RFC1123))
		if r.Description != "" {
			fmt.Fprintf(&b, "DESCRIPTION: %s\n", r.Description)
		}
		b.WriteString("OBJECTS:\n")
		for _, obj := range r.Objects {
			fmt.Fprintf(&b, "  %s\n", obj)
		}
	case *releasetools.HistoryResult:
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		_, _ = fmt.Fprintln(tw, "REVISION\tUPDATED\tSTATUS\tCHART\tAPP VERSION\tDESCRIPTION") // into b: cannot fail
		for _, rv := range r.Revisions {
			_, _ = fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", rv.Revision, rv.Updated.Format(time.DateTime), rv.Status, rv.Chart, rv.AppVersion, rv.Description)
		}
		_ = tw.Flush() // writes to a strings.Builder
	case *release.RollbackResult:
		head = fmt.Sprintf("Release %q rolled back from revision %d to %d's chart and values: now revision %d, status %s.",
			r.Release.Name, r.FromRevision, r.ToRevision, r.Release.Revision, r.Release.Status)
	case *release.UninstallResult:
		head = fmt.Sprintf("Release %q uninstalled from namespace %q: %d objects removed.", r.Release.Name, r.Release.Namespace, len(r.Removed))
		for _, k := range r.Kept {
			fmt.Fprintf(&b, "  kept %s: %s\n", k.Object, k.Reason)
		}
	default:
		return "", "", false
	}
	return head, b.String(), true
}

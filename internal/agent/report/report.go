// Package report prints tool call records and agent runs for people: each
// record with its preview, approval, outcome and result (Record), and a run
// as its actions, each under its call, then the answer (Text). Results of
// the Helm tools have their own form (Helm's); the others are rendered from
// their JSON: scalar fields as "key: value", lists of objects as tables, a
// "log" field (or any multi-line text) as a block.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/termsafe"
)

// Options tune the text report.
type Options struct {
	// ShowRequest prints the request first (useful with -f).
	ShowRequest bool
	// ShowReadResults prints the results of read-only tools. In fallback
	// mode they are the answer; in LLM mode the model summarises them.
	ShowReadResults bool
}

// maxCellWidth keeps table cells readable.
const maxCellWidth = 60

// Text writes run for a person. A run error that is not an action's (an
// unmappable request, the step limit) is left to the caller, for stderr.
func Text(w io.Writer, run *agent.Run, o Options) error {
	var b bytes.Buffer
	if o.ShowRequest {
		fmt.Fprintf(&b, "» %s\n", run.Request)
	}
	mode := string(run.Mode)
	if run.FallbackReason != "" {
		mode += " (" + run.FallbackReason + ")"
	}
	fmt.Fprintf(&b, "mode: %s\n", mode)
	for _, rec := range run.Actions {
		// Each action under its call, indented.
		fmt.Fprintf(&b, "\n→ %s %s", rec.Tool, compactJSON(rec.Args))
		if rec.Risk.Mutates() {
			fmt.Fprintf(&b, "  [%s]", rec.Risk)
		}
		b.WriteString("\n")
		writeRecord(&b, rec, o, "  ")
	}
	if run.Answer != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(run.Answer))
	}
	// Everything above may hold cluster or model text (names, events,
	// logs, the answer), and the report adds no escapes of its own: one
	// pass over the whole keeps any of it from driving the terminal.
	_, err := io.WriteString(w, termsafe.Text(b.String()))
	return err
}

// ActionError reports whether the run's error is one of its actions' errors
// (already shown with that action).
func ActionError(run *agent.Run) bool {
	err := run.Err()
	if err == nil {
		return false
	}
	for _, rec := range run.Actions {
		if rec.Err() != nil && errors.Is(err, rec.Err()) {
			return true
		}
	}
	return false
}

// field is one key of a JSON object, in document order.
type field struct {
	key    string
	scalar string   // for strings, numbers, booleans
	obj    fields   // for objects
	list   []fields // for arrays of objects
	items  []string // for arrays of scalars
	isList bool
}

type fields []field

func (fs fields) get(key string) (field, bool) {
	for _, f := range fs {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// orderedFields decodes v's JSON form keeping the order of keys.
func orderedFields(v any) fields {
	raw, err := json.Marshal(v)
	if err != nil {
		return fields{{key: "result", scalar: fmt.Sprint(v)}}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	val, err := decodeValue(dec)
	if err != nil {
		return fields{{key: "result", scalar: string(raw)}}
	}
	if val.obj != nil {
		return val.obj
	}
	val.key = "result"
	return fields{val}
}

func decodeValue(dec *json.Decoder) (field, error) {
	tok, err := dec.Token()
	if err != nil {
		return field{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var obj fields
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return field{}, err
				}
				f, err := decodeValue(dec)
				if err != nil {
					return field{}, err
				}
				f.key, _ = kt.(string)
				obj = append(obj, f)
			}
			_, err := dec.Token()
			if obj == nil {
				obj = fields{}
			}
			return field{obj: obj}, err
		case '[':
			f := field{isList: true}
			for dec.More() {
				el, err := decodeValue(dec)
				if err != nil {
					return field{}, err
				}
				if el.obj != nil {
					f.list = append(f.list, el.obj)
				} else {
					f.items = append(f.items, el.scalar)
				}
			}
			_, err := dec.Token()
			return f, err
		}
	case nil:
		return field{}, nil
	case string:
		return field{scalar: t}, nil
	}
	return field{scalar: fmt.Sprint(tok)}, nil
}

func writeValue(b *bytes.Buffer, fs fields, pad string) {
	for _, f := range fs {
		switch {
		case f.key == "message":
		case f.key == "log" || strings.Contains(f.scalar, "\n"):
			fmt.Fprintf(b, "%s%s:\n%s", pad, f.key, indent(f.scalar, pad+"  "))
		case f.isList && len(f.list) > 0:
			fmt.Fprintf(b, "%s%s:\n", pad, f.key)
			writeTable(b, f.list, pad+"  ")
		case f.isList && len(f.items) > 0:
			fmt.Fprintf(b, "%s%s: %s\n", pad, f.key, strings.Join(f.items, ", "))
		case len(f.obj) > 0:
			fmt.Fprintf(b, "%s%s:\n", pad, f.key)
			writeValue(b, f.obj, pad+"  ")
		case f.scalar != "" && f.scalar != "false" && f.scalar != "0":
			fmt.Fprintf(b, "%s%s: %s\n", pad, f.key, f.scalar)
		}
	}
}

// writeTable prints objects as columns, the union of their keys in order of
// first appearance; nested values are shown compactly.
func writeTable(b *bytes.Buffer, rows []fields, pad string) {
	var cols []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, f := range r {
			if !seen[f.key] {
				seen[f.key] = true
				cols = append(cols, f.key)
			}
		}
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintf(tw, "%s%s\n", pad, strings.ToUpper(strings.Join(cols, "\t"))) // tw writes to a bytes.Buffer
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			if f, ok := r.get(c); ok {
				cells[i] = cellText(f)
			}
		}
		_, _ = fmt.Fprintf(tw, "%s%s\n", pad, strings.Join(cells, "\t"))
	}
	_ = tw.Flush()
}

func cellText(f field) string {
	var s string
	switch {
	case f.isList && len(f.items) > 0:
		s = strings.Join(f.items, ",")
	case f.isList && len(f.list) > 0:
		s = fmt.Sprintf("(%d)", len(f.list))
	case f.obj != nil:
		parts := make([]string, 0, len(f.obj))
		for _, o := range f.obj {
			parts = append(parts, o.key+"="+cellText(o))
		}
		s = strings.Join(parts, " ")
	default:
		s = f.scalar
	}
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > maxCellWidth {
		s = string(r[:maxCellWidth-1]) + "…"
	}
	if s == "" {
		s = "-"
	}
	return s
}

// indent prefixes each line of s but the empty ones with pad, and ends it
// with a newline.
func indent(s, pad string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

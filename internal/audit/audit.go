// Package audit records every executed or failed mutation as one JSON line
// in an append-only file (default $XDG_STATE_HOME/opsagent/audit.log).
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opsagent/opsagent/internal/tools"
)

// Entry is one line of the audit log.
type Entry struct {
	Time time.Time `json:"time"`
	// Context is the kube context the change was made in.
	Context string `json:"context"`
	// Via is the surface the request came through ("cli", "http", "mcp")
	// and Caller who made it there (the Kubernetes user a token belongs to,
	// an MCP client's name); empty Via means the CLI.
	Via    string `json:"via,omitempty"`
	Caller string `json:"caller,omitempty"`
	// Phase is "started" (approved, about to run) or "done" (the outcome).
	Phase      string          `json:"phase"`
	Namespace  string          `json:"namespace,omitempty"`
	Tool       string          `json:"tool"`
	Args       json.RawMessage `json:"args"`
	Risk       tools.Risk      `json:"risk"`
	Privileged []string        `json:"privileged,omitempty"`
	Targets    []tools.Target  `json:"targets,omitempty"`
	Preview    string          `json:"preview,omitempty"`
	ApprovedBy string          `json:"approvedBy"`
	Result     any             `json:"result,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// Log appends entries to a file. It holds no open file: each Record opens
// the file with O_APPEND and writes its line with a single write, so
// concurrent opsagent processes never interleave lines.
type Log struct {
	path      string
	context   string
	namespace string
	// Via and Caller are written on every entry (see Entry).
	Via, Caller string
}

var _ tools.AuditSink = (*Log)(nil)

// New returns a Log writing to path for changes made in kubeContext, with
// defaultNamespace used for entries whose arguments name no namespace.
// Nothing is created until the first Record.
func New(path, kubeContext, defaultNamespace string) *Log {
	return &Log{path: path, context: kubeContext, namespace: defaultNamespace}
}

// Path is the file the log appends to.
func (l *Log) Path() string { return l.path }

// Record implements tools.AuditSink.
// ctx's InFlight, if any, learns of the entry once it is written; ctx may
// be cancelled (an interrupted run still records its outcome).
func (l *Log) Record(ctx context.Context, e tools.AuditEntry) error {
	entry := Entry{
		Time:       e.Time.UTC(),
		Context:    l.context,
		Via:        l.Via,
		Caller:     l.Caller,
		Phase:      e.Phase,
		Namespace:  namespaceOf(e.Args, l.namespace),
		Tool:       e.Tool,
		Args:       compact(e.Args),
		Risk:       e.Risk,
		Privileged: e.Privileged,
		Targets:    e.Targets,
		Preview:    e.Preview,
		ApprovedBy: e.ApprovedBy,
		Result:     e.Result,
		Error:      e.Error,
	}
	if entry.Time.IsZero() {
		entry.Time = time.Now().UTC()
	}
	line, err := json.Marshal(entry)
	if err != nil {
		// A result that cannot be encoded must not lose the line.
		entry.Result = fmt.Sprintf("unencodable result: %v", err)
		if line, err = json.Marshal(entry); err != nil {
			return fmt.Errorf("encode audit entry for %s: %w", e.Tool, err)
		}
	}
	if err := l.append(append(line, '\n')); err != nil {
		return err
	}
	// Only a written "started" record means the tool runs.
	inFlightFrom(ctx).note(e)
	return nil
}

// Check implements tools.AuditSink: it opens the log for appending (creating
// it and its folder if needed) without writing, so a change is never
// approved when its record could not be written.
func (l *Log) Check() error {
	f, err := l.open()
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close audit log %s: %w", l.path, err)
	}
	return nil
}

// open opens the log for appending. It refuses anything but a regular file
// (a symlink planted at the path, a FIFO) so records cannot be redirected.
func (l *Log) open() (*os.File, error) {
	if l.path == "" {
		return nil, fmt.Errorf("no audit log path (set --audit-log or OPSAGENT_AUDIT_LOG)")
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return nil, fmt.Errorf("create audit log folder: %w (set --audit-log or OPSAGENT_AUDIT_LOG to a writable path)", err)
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w (set --audit-log or OPSAGENT_AUDIT_LOG to a writable regular file)", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		_ = f.Close() // refusing it anyway
		return nil, fmt.Errorf("audit log %s is not a regular file; set --audit-log or OPSAGENT_AUDIT_LOG to one", l.path)
	}
	return f, nil
}

func (l *Log) append(line []byte) error {
	f, err := l.open()
	if err != nil {
		return err
	}
	_, werr := f.Write(line)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("write audit log %s: %w", l.path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("close audit log %s: %w", l.path, cerr)
	}
	return nil
}

// namespaceOf returns the "namespace" argument of a tool call, or def.
func namespaceOf(args json.RawMessage, def string) string {
	var a struct {
		Namespace string `json:"namespace"`
	}
	if json.Unmarshal(args, &a) == nil && a.Namespace != "" {
		return a.Namespace
	}
	return def
}

// compact keeps each entry on one line whatever the arguments' formatting.
func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if len(raw) == 0 || json.Compact(&buf, raw) != nil {
		b, _ := json.Marshal(string(raw))
		if len(raw) == 0 {
			return json.RawMessage("{}")
		}
		return b
	}
	return buf.Bytes()
}

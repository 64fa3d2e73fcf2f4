package audit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsagent/opsagent/internal/audit"
	"github.com/opsagent/opsagent/internal/tools"
)

func TestRecordAppendsOneLinePerEntry(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state", "opsagent", "audit.log")
	log := audit.New(path, "minikube", "default")
	ctx := context.Background()
	entries := []tools.AuditEntry{
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Tool: "scale_workload",
			Args: json.RawMessage("{\n \"name\": \"backend\", \"namespace\": \"todo\", \"replicas\": 3}"),
			Risk: tools.Write, Preview: "deployment/todo-chatbot-backend in todo: replicas 1 → 3", ApprovedBy: "--yes",
			Result: map[string]int{"after": 3}},
		{Tool: "delete_pod", Args: json.RawMessage(`{"name":"p"}`), Risk: tools.Destructive, ApprovedBy: "terminal", Error: "delete_pod: boom"},
		{Tool: "restart_workload", Args: json.RawMessage(`not json`), Risk: tools.Write, Result: func() {}},
	}
	for _, e := range entries {
		if err := log.Record(ctx, e); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
	lines := readLines(t, path)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	tests := []struct {
		line                               int
		wantNamespace, wantTool, wantError string
	}{
		{0, "todo", "scale_workload", ""},
		{1, "default", "delete_pod", "delete_pod: boom"},
		{2, "default", "restart_workload", ""},
	}
	for _, tt := range tests {
		e := lines[tt.line]
		if e.Namespace != tt.wantNamespace || e.Tool != tt.wantTool || e.Error != tt.wantError || e.Context != "minikube" {
			t.Errorf("line %d = %+v", tt.line, e)
		}
	}
	if string(lines[0].Args) != `{"name":"backend","namespace":"todo","replicas":3}` {
		t.Errorf("args not compacted: %s", lines[0].Args)
	}
	if lines[1].Time.IsZero() {
		t.Error("a zero time is not filled in")
	}
}

func TestConcurrentAppendsDoNotInterleave(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := audit.New(path, "ctx", "ns") // separate Logs, like separate processes
			for i := range each {
				big := fmt.Sprintf("%0*d", 2000, i)
				err := log.Record(context.Background(), tools.AuditEntry{
					Tool: fmt.Sprintf("tool-%d", w), Args: json.RawMessage(`{}`), Risk: tools.Write, Result: big,
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := len(readLines(t, path)); got != writers*each {
		t.Errorf("%d lines, want %d", got, writers*each)
	}
}

func TestUnwritablePathSaysWhatToDo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := audit.New(filepath.Join(blocker, "audit.log"), "", "").Record(context.Background(), tools.AuditEntry{Tool: "x"})
	if err == nil {
		t.Fatal("want an error")
	}
	if got := err.Error(); !strings.Contains(got, "--audit-log") {
		t.Errorf("error %q does not say how to fix it", got)
	}
}

// line is an audit.Entry as read back (tools.Risk only marshals).
type line struct {
	Time                                       time.Time
	Context, Namespace, Tool, Risk, ApprovedBy string
	Args                                       json.RawMessage
	Error                                      string
}

func readLines(t *testing.T, path string) []line {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e line
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d is not one JSON entry: %v\n%.200s", len(out)+1, err, sc.Text())
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCheckRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere.log")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "audit.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := audit.New(link, "ctx", "ns").Check(); err == nil {
		t.Error("Check accepted a symlink planted at the audit log path")
	}
	if err := audit.New("", "ctx", "ns").Check(); err == nil || !strings.Contains(err.Error(), "--audit-log") {
		t.Errorf("Check with no path = %v, want an error naming --audit-log", err)
	}
	good := audit.New(filepath.Join(dir, "sub", "audit.log"), "ctx", "ns")
	if err := good.Check(); err != nil {
		t.Fatalf("Check on a fresh path: %v", err)
	}
	if st, err := os.Stat(good.Path()); err != nil || st.Size() != 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("Check should create an empty 0600 file: %v %v", st, err)
	}
}

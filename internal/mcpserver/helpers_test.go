package mcpserver_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/mcpserver"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/toolset"
)

// options are the server options `opsagent mcp` builds, for in-process
// servers.
func options() mcpserver.Options {
	return mcpserver.Options{NewTools: func(c *kube.Clients) []tools.Tool { return toolset.New(c, toolset.Options{}) }}
}

// allTools is the full tool list, as the registry holds it.
func allTools() []tools.Tool { return toolset.New(&kube.Clients{}, toolset.Options{}) }

var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "opsagent-mcp-test-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "opsagent")
	// Stripped, as the sandbox tests build theirs: linking is most of the
	// cost, and DWARF is what makes it slow.
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/opsagent")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{out: string(out), err: err}
	}
	return bin, nil
})

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string {
	return "go build ./cmd/opsagent: " + e.err.Error() + "\n" + e.out
}

// opsagentBinary builds the command once per test binary, into a temp dir
// (never bin/opsagent, which others may be running).
func opsagentBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// server is one `opsagent mcp` process over stdio and a client session to it.
type server struct {
	cs       *mcp.ClientSession
	auditLog string
}

// startStdio runs `opsagent mcp` against env's namespace with flags and
// connects the official SDK client (clientOpts decides its capabilities).
func startStdio(t *testing.T, env *testcluster.Env, clientOpts *mcp.ClientOptions, flags ...string) *server {
	t.Helper()
	bin := opsagentBinary(t)
	audit := filepath.Join(t.TempDir(), "audit.log")
	args := append([]string{"mcp", "--kubeconfig", env.Kubeconfig, "-n", env.Namespace, "--audit-log", audit}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &testWriter{t: t}
	client := mcp.NewClient(&mcp.Implementation{Name: "opsagent-test-client", Version: "1"}, clientOpts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect to opsagent mcp: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return &server{cs: cs, auditLog: audit}
}

// testWriter sends the server's stderr to the test log.
type testWriter struct {
	t  *testing.T
	mu sync.Mutex
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Logf("server: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// call calls a tool and fails the test on a protocol error (tool errors are
// results, for the test to judge).
func call(t *testing.T, cs *mcp.ClientSession, tool string, args any) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	return res
}

// text joins a result's text content.
func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// wire is the whole result as the client received it (text and
// structured content): what a canary must never appear in.
func wire(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// scaleArgs scale name to n without waiting for the rollout (kwok pods are
// ready at once, but the test judges the spec, not the rollout).
func scaleArgs(name string, n int) map[string]any {
	return map[string]any{"name": name, "replicas": n, "wait": false}
}

// approve and decline are elicitation handlers; each records the messages
// it was shown.
type elicitations struct {
	mu       sync.Mutex
	messages []string
}

func (e *elicitations) record(req *mcp.ElicitRequest) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.messages = append(e.messages, req.Params.Message)
}

func (e *elicitations) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.messages...)
}

func (e *elicitations) answer(action string, approve bool) func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	return func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		e.record(req)
		res := &mcp.ElicitResult{Action: action}
		if action == "accept" {
			res.Content = map[string]any{"approve": approve}
		}
		return res, nil
	}
}

// auditEntries reads the audit log's JSON lines.
func auditEntries(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for line := range strings.Lines(string(b)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

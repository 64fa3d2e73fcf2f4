package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsagent/opsagent/internal/mcpserver"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// Clients nobody here wrote: the MCP Inspector's CLI mode and the official
// conformance suite, installed from npm at pinned versions by
// hack/mcp-tools.sh (`make test` runs it). Without them these tests fail
// under CI and skip elsewhere.

// npmTool returns the path of an installed tool's bin entry and the Node to
// run it with.
func npmTool(t *testing.T, bin string) (node, script string) {
	t.Helper()
	prefix := os.Getenv("OPSAGENT_MCP_TOOLS")
	if prefix == "" {
		out, err := exec.Command("bash", filepath.Join("..", "..", "hack", "mcp-tools.sh"), "--print").Output()
		if err != nil {
			t.Fatalf("hack/mcp-tools.sh --print: %v", err)
		}
		prefix = strings.TrimSpace(string(out))
	}
	node = filepath.Join(prefix, "node_modules", ".bin", "node")
	script = filepath.Join(prefix, "node_modules", ".bin", bin)
	for _, p := range []string{node, script} {
		if _, err := os.Stat(p); err != nil {
			msg := "the MCP test clients are not installed (" + p + "): run `bash hack/mcp-tools.sh`"
			testcluster.SkipOrFail(t, msg)
		}
	}
	return node, script
}

// runNode runs a Node tool and returns its stdout; a failure fails the test
// with both outputs.
func runNode(t *testing.T, dir string, timeout time.Duration, node, script string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = dir
	// The Inspector looks for `node` on PATH for the servers it spawns;
	// ours is a Go binary, but keep PATH pointing at the pinned Node.
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(script), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

// TestInspectorCLI has the MCP Inspector's CLI mode start `opsagent mcp`
// over stdio, list its tools and call one.
func TestInspectorCLI(t *testing.T) {
	t.Parallel()
	node, inspector := npmTool(t, "mcp-inspector")
	env := testcluster.New(t)
	env.Deployment(t, "frontend", 1)
	server := []string{"--cli", opsagentBinary(t), "mcp", "--kubeconfig", env.Kubeconfig, "-n", env.Namespace,
		"--audit-log", filepath.Join(t.TempDir(), "audit.log")}

	var list struct {
		Tools []struct {
			Name        string         `json:"name"`
			Annotations map[string]any `json:"annotations"`
		} `json:"tools"`
	}
	out := runNode(t, t.TempDir(), 2*time.Minute, node, inspector, append(server, "--method", "tools/list")...)
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("tools/list output: %v\n%s", err, out)
	}
	if len(list.Tools) != len(allTools()) {
		t.Fatalf("the Inspector lists %d tools, the registry has %d", len(list.Tools), len(allTools()))
	}

	var res struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	out = runNode(t, t.TempDir(), 2*time.Minute, node, inspector,
		append(server, "--method", "tools/call", "--tool-name", "list_resources", "--tool-arg", "kind=deployments")...)
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("tools/call output: %v\n%s", err, out)
	}
	if res.IsError || len(res.Content) == 0 || !strings.Contains(res.Content[0].Text, "frontend") {
		t.Fatalf("tools/call list_resources through the Inspector: %s", out)
	}
}

// TestConformance runs the official conformance suite's server scenarios
// against the Streamable HTTP handler on loopback. The suite's client
// cannot send headers, so a wrapper adds the caller's bearer token, as a
// configured client would; everything else — Host and Origin checks,
// sessions, the protocol — is the real handler's. Scenarios that need the
// suite's own test tools, prompts or resources are listed, each with its
// reason, in testdata/conformance-baseline.yml.
func TestConformance(t *testing.T) {
	t.Parallel()
	node, conformance := npmTool(t, "conformance")
	env := testcluster.New(t)
	token := env.CallerToken(t, "conformance", operatorRules...)
	o := options()
	o.AuditLog = filepath.Join(t.TempDir(), "audit.log")
	h, err := mcpserver.NewHandler(mcpserver.HTTPConfig{Base: env.RESTConfig, Namespace: env.Namespace}, o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(mcpserver.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(w, r)
	}))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	url := strings.Replace(ts.URL, "127.0.0.1", "localhost", 1) + mcpserver.Path
	baseline, err := filepath.Abs(filepath.Join("testdata", "conformance-baseline.yml"))
	if err != nil {
		t.Fatal(err)
	}
	out := runNode(t, t.TempDir(), 5*time.Minute, node, conformance,
		"server", "--url", url, "--spec-version", "2025-11-25", "--expected-failures", baseline)
	t.Logf("conformance suite:\n%s", out)
}

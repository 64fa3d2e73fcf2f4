package server_test

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/mcpserver"
	"github.com/opsagent/opsagent/internal/mcpserver/mcptest"
	"github.com/opsagent/opsagent/internal/server"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/toolset"
)

// localToken is the local access token of the tests that lend the
// kubeconfig's user, as `opsagent serve` prints one.
const localToken = "local-access-token-for-the-tests-0123456789"

// withLocalAccess lends the test cluster's kubeconfig user (the sandbox's
// admin) to holders of localToken.
func withLocalAccess(e *testcluster.Env) func(*server.Config) {
	return func(c *server.Config) {
		c.Local = &server.LocalAccess{Token: localToken, Clients: func(ns string) (*kube.Clients, error) {
			f := genericclioptions.NewConfigFlags(true)
			ns = cmp.Or(ns, e.Namespace)
			f.KubeConfig, f.Namespace = &e.Kubeconfig, &ns
			return kube.NewClients(f)
		}}
	}
}

// mcpCall calls a tool over MCP, failing the test on a protocol error (a
// tool's error is a result, for the test to judge), and returns the
// result's text and whether it is an error.
func mcpCall(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n"), res.IsError
}

// approveAll is an elicitation handler that approves every change and
// counts how often it was asked.
func approveAll(asked *int) func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	return func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		*asked++
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"approve": true}}, nil
	}
}

// TestServeMCP drives serve's /mcp with the official SDK client: the same
// bearer tokens as the API (a caller's own, or the local access token),
// the caller's RBAC, and no change without a person asked by elicitation.
func TestServeMCP(t *testing.T) {
	t.Parallel()
	e := testcluster.New(t)
	s := newTestServer(t, e, withLocalAccess(e))
	writer := e.CallerToken(t, "writer", writeRules...)
	nobody := e.CallerToken(t, "nobody")
	e.Deployment(t, "web", 1)
	endpoint := s.URL + mcpserver.Path

	t.Run("no token or a rejected token is 401", func(t *testing.T) { mcptest.RequireToken(t, endpoint) })
	t.Run("browsers are kept out", func(t *testing.T) { mcptest.KeepsBrowsersOut(t, endpoint, writer) })

	t.Run("lists the tools and reads as the caller", func(t *testing.T) {
		cs, err := mcptest.Connect(t, endpoint, writer, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := mcptest.CountTools(t, cs)
		if want := len(toolset.New(&kube.Clients{}, toolset.Options{})); n != want {
			t.Errorf("listed %d tools, the tool set has %d", n, want)
		}
		// The caller's token has no default namespace: it names one.
		if out, isErr := mcpCall(t, cs, "list_resources", map[string]any{"kind": "deployments", "namespace": e.Namespace}); isErr || !strings.Contains(out, "web") {
			t.Errorf("list_resources: isError=%v %s", isErr, out)
		}
		noRights, err := mcptest.Connect(t, endpoint, nobody, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out, isErr := mcpCall(t, noRights, "list_resources", map[string]any{"kind": "deployments", "namespace": e.Namespace}); !isErr || !strings.Contains(out, "forbidden") {
			t.Errorf("a caller without rights listed deployments: isError=%v %s", isErr, out)
		}
	})

	scale := map[string]any{"name": "web", "namespace": e.Namespace, "replicas": 2, "wait": false}
	t.Run("a change without elicitation is refused", func(t *testing.T) {
		cs, err := mcptest.Connect(t, endpoint, writer, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out, isErr := mcpCall(t, cs, "scale_workload", scale); !isErr || !strings.Contains(out, "elicitation") {
			t.Errorf("want a tool error naming elicitation; isError=%v %s", isErr, out)
		}
		if n := e.Replicas(t, "web"); n != 1 {
			t.Fatalf("replicas changed to %d without approval", n)
		}
	})

	t.Run("a change is asked by elicitation", func(t *testing.T) {
		var asked int
		cs, err := mcptest.Connect(t, endpoint, writer, &mcp.ClientOptions{ElicitationHandler: approveAll(&asked)})
		if err != nil {
			t.Fatal(err)
		}
		if out, isErr := mcpCall(t, cs, "scale_workload", scale); isErr {
			t.Fatalf("scale: %s", out)
		}
		if n := e.Replicas(t, "web"); n != 2 || asked != 1 {
			t.Fatalf("replicas %d after %d elicitations, want 2 after 1", n, asked)
		}
		wantCaller := "system:serviceaccount:" + e.Namespace + ":writer via " + mcptest.ClientName
		if entry := lastAudit(t, s.AuditLog); entry.Via != "mcp" || entry.Caller != wantCaller || entry.ApprovedBy != "mcp elicitation" {
			t.Errorf("audit entry %+v; want via mcp, caller %q, approved by mcp elicitation", entry, wantCaller)
		}
	})

	t.Run("the local access token acts as the kubeconfig's user", func(t *testing.T) {
		cs, err := mcptest.Connect(t, endpoint, localToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Its default namespace is the kubeconfig's (here the test's).
		if out, isErr := mcpCall(t, cs, "list_resources", map[string]any{"kind": "deployments"}); isErr || !strings.Contains(out, "web") {
			t.Errorf("list_resources with the local token: isError=%v %s", isErr, out)
		}
	})
}

// auditEntry is one line of the audit log, as far as these tests read it.
type auditEntry struct{ Via, Caller, Phase, Tool, ApprovedBy string }

// lastAudit is the audit log's last entry.
func lastAudit(t *testing.T, path string) auditEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var entry auditEntry
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &entry); err != nil {
		t.Fatalf("audit line %q: %v", lines[len(lines)-1], err)
	}
	return entry
}

package mcpserver_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/opsagent/opsagent/internal/mcpserver"
	"github.com/opsagent/opsagent/internal/mcpserver/mcptest"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// httpServer serves NewHandler at /mcp on a loopback httptest server.
type httpServer struct {
	url      string
	auditLog string
}

func startHTTP(t *testing.T, env *testcluster.Env) *httpServer {
	t.Helper()
	o := options()
	o.AuditLog = filepath.Join(t.TempDir(), "audit.log")
	h, err := mcpserver.NewHandler(mcpserver.HTTPConfig{Base: env.RESTConfig, Namespace: env.Namespace}, o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(mcpserver.Path, h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &httpServer{url: ts.URL + mcpserver.Path, auditLog: o.AuditLog}
}

// operatorRules let a caller read and scale workloads in its namespace,
// and read its Secrets (what redaction by value needs).
var operatorRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"apps"}, Resources: []string{"deployments", "deployments/scale", "replicasets", "statefulsets", "daemonsets"}, Verbs: []string{"get", "list", "watch", "update", "patch"}},
	{APIGroups: []string{""}, Resources: []string{"pods", "events", "secrets", "services"}, Verbs: []string{"get", "list", "watch"}},
}

// TestHTTP drives the Streamable HTTP handler with the official client:
// each request acts as its bearer token's holder, whose RBAC decides.
func TestHTTP(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	env.Deployment(t, "backend", 1)
	srv := startHTTP(t, env)
	operator := env.CallerToken(t, "mcp-operator", operatorRules...)
	nobody := env.CallerToken(t, "mcp-nobody")

	t.Run("no token or a rejected token is 401", func(t *testing.T) { mcptest.RequireToken(t, srv.url) })
	t.Run("browsers are kept out", func(t *testing.T) { mcptest.KeepsBrowsersOut(t, srv.url, operator) })

	t.Run("acts as the caller", func(t *testing.T) {
		var e elicitations
		cs, err := mcptest.Connect(t, srv.url, operator, &mcp.ClientOptions{ElicitationHandler: e.answer("accept", true)})
		if err != nil {
			t.Fatal(err)
		}
		n := mcptest.CountTools(t, cs)
		if n != len(allTools()) {
			t.Errorf("listed %d tools, the registry has %d", n, len(allTools()))
		}
		if res := call(t, cs, "list_resources", map[string]any{"kind": "deployments"}); res.IsError || !strings.Contains(text(res), "backend") {
			t.Fatalf("list_resources: %s", text(res))
		}
		if res := call(t, cs, "scale_workload", scaleArgs("backend", 2)); res.IsError {
			t.Fatalf("scale: %s", text(res))
		}
		if got := env.Replicas(t, "backend"); got != 2 || len(e.all()) != 1 {
			t.Fatalf("replicas %d after one approval (asked %d times), want 2", got, len(e.all()))
		}
		wantCaller := "system:serviceaccount:" + env.Namespace + ":mcp-operator via opsagent-test-client"
		var found bool
		for _, a := range auditEntries(t, srv.auditLog) {
			if a["tool"] == "scale_workload" {
				found = true
				if a["via"] != "mcp" || a["caller"] != wantCaller {
					t.Errorf("audit entry via %v caller %v, want mcp and %q", a["via"], a["caller"], wantCaller)
				}
			}
		}
		if !found {
			t.Error("the scale is not in the audit log")
		}
	})

	t.Run("the caller's RBAC decides", func(t *testing.T) {
		cs, err := mcptest.Connect(t, srv.url, nobody, &mcp.ClientOptions{ElicitationHandler: (&elicitations{}).answer("accept", true)})
		if err != nil {
			t.Fatal(err)
		}
		res := call(t, cs, "list_resources", map[string]any{"kind": "deployments"})
		if !res.IsError || !strings.Contains(text(res), "forbidden") {
			t.Fatalf("a caller without rights listed deployments: isError=%v %s", res.IsError, text(res))
		}
		before := env.Replicas(t, "backend")
		if res := call(t, cs, "scale_workload", scaleArgs("backend", int(before)+1)); !res.IsError {
			t.Fatalf("a caller without rights scaled: %s", text(res))
		}
		if after := env.Replicas(t, "backend"); after != before {
			t.Fatalf("replicas %d → %d by a caller without rights", before, after)
		}
	})

	t.Run("client without elicitation", func(t *testing.T) {
		cs, err := mcptest.Connect(t, srv.url, operator, nil)
		if err != nil {
			t.Fatal(err)
		}
		before := env.Replicas(t, "backend")
		res := call(t, cs, "scale_workload", scaleArgs("backend", int(before)+1))
		if !res.IsError || !strings.Contains(text(res), "elicitation") {
			t.Fatalf("want a tool error naming elicitation; isError=%v %s", res.IsError, text(res))
		}
		if after := env.Replicas(t, "backend"); after != before {
			t.Fatalf("replicas %d → %d without approval", before, after)
		}
	})
}

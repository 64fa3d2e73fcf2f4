package mcpserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
)

// TestStdio drives `opsagent mcp` (the built binary) with the official Go
// SDK client over stdio: the list mirrors the registry, a read works, and a
// scale is applied only when a person approves it through elicitation.
func TestStdio(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	env.Deployment(t, "backend", 1)

	t.Run("list and read", func(t *testing.T) {
		s := startStdio(t, env, nil)
		var listed []*mcp.Tool
		for tool, err := range s.cs.Tools(t.Context(), nil) {
			if err != nil {
				t.Fatal(err)
			}
			listed = append(listed, tool)
		}
		checkAnnotations(t, listed, allTools())

		res := call(t, s.cs, "list_resources", map[string]any{"kind": "deployments"})
		if res.IsError || !strings.Contains(text(res), "backend") {
			t.Fatalf("list_resources: isError=%v %s", res.IsError, text(res))
		}
		if m, ok := res.StructuredContent.(map[string]any); !ok || m["result"] == nil {
			t.Fatalf("structured content %#v has no result", res.StructuredContent)
		}
	})

	t.Run("approved through elicitation", func(t *testing.T) {
		var e elicitations
		s := startStdio(t, env, &mcp.ClientOptions{ElicitationHandler: e.answer("accept", true)})
		res := call(t, s.cs, "scale_workload", scaleArgs("backend", 3))
		if res.IsError {
			t.Fatalf("scale: %s", text(res))
		}
		if got := env.Replicas(t, "backend"); got != 3 {
			t.Fatalf("replicas %d after an approved scale to 3", got)
		}
		msgs := e.all()
		if len(msgs) != 1 || !strings.Contains(msgs[0], "1 → 3") || !strings.Contains(msgs[0], "deployment/backend in "+env.Namespace) {
			t.Fatalf("elicitation messages %q: want one showing the preview and target", msgs)
		}
		// The audit log names the surface, the client and how it was approved.
		var done bool
		for _, a := range auditEntries(t, s.auditLog) {
			if a["phase"] == tools.AuditDone && a["tool"] == "scale_workload" {
				done = true
				if a["via"] != "mcp" || a["caller"] != "opsagent-test-client" || a["approvedBy"] != "mcp elicitation" {
					t.Errorf("audit entry %v: want via mcp, caller opsagent-test-client, approvedBy mcp elicitation", a)
				}
			}
		}
		if !done {
			t.Errorf("no audit record of the scale in %s", s.auditLog)
		}
	})

	for _, tc := range []struct {
		name    string
		action  string
		approve bool
	}{
		{"declined", "decline", false},
		{"cancelled", "cancel", false},
		{"accepted without approve", "accept", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := env.Replicas(t, "backend")
			var e elicitations
			s := startStdio(t, env, &mcp.ClientOptions{ElicitationHandler: e.answer(tc.action, tc.approve)})
			res := call(t, s.cs, "scale_workload", scaleArgs("backend", int(before)+2))
			if !res.IsError || !strings.Contains(text(res), tools.ErrDeclined.Error()) {
				t.Fatalf("scale answered %s: isError=%v %s", tc.action, res.IsError, text(res))
			}
			if len(e.all()) != 1 {
				t.Fatalf("asked %d times, want once", len(e.all()))
			}
			if got := env.Replicas(t, "backend"); got != before {
				t.Fatalf("replicas %d → %d although the change was not approved", before, got)
			}
		})
	}

	t.Run("client without elicitation", func(t *testing.T) {
		before := env.Replicas(t, "backend")
		s := startStdio(t, env, nil)
		res := call(t, s.cs, "scale_workload", scaleArgs("backend", int(before)+1))
		got := text(res)
		if !res.IsError || !strings.Contains(got, "elicitation") || !strings.Contains(got, "--yes") || !strings.Contains(got, env.Namespace) {
			t.Fatalf("want a tool error naming elicitation, --yes and the namespace; isError=%v %s", res.IsError, got)
		}
		if after := env.Replicas(t, "backend"); after != before {
			t.Fatalf("replicas %d → %d without approval", before, after)
		}
	})

	// Nothing is approved because an argument says so: the gate decodes
	// arguments strictly against the tool's schema, which has no such field.
	t.Run("arguments cannot approve", func(t *testing.T) {
		before := env.Replicas(t, "backend")
		s := startStdio(t, env, nil)
		for _, extra := range []map[string]any{{"approved": true}, {"yes": true}, {"approve": true, "allow_destructive": true}} {
			args := scaleArgs("backend", int(before)+1)
			for k, v := range extra {
				args[k] = v
			}
			res := call(t, s.cs, "scale_workload", args)
			if !res.IsError || !strings.Contains(text(res), tools.ErrInvalidArgs.Error()) {
				t.Fatalf("scale with %v: want invalid arguments; isError=%v %s", extra, res.IsError, text(res))
			}
		}
		if after := env.Replicas(t, "backend"); after != before {
			t.Fatalf("replicas %d → %d by an argument", before, after)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		s := startStdio(t, env, &mcp.ClientOptions{ElicitationHandler: (&elicitations{}).answer("accept", true)}, "--read-only")
		for tool, err := range s.cs.Tools(t.Context(), nil) {
			if err != nil {
				t.Fatal(err)
			}
			if !tool.Annotations.ReadOnlyHint {
				t.Errorf("--read-only lists %s", tool.Name)
			}
		}
		before := env.Replicas(t, "backend")
		_, err := s.cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "scale_workload", Arguments: scaleArgs("backend", int(before)+1)})
		if err == nil || !strings.Contains(err.Error(), "scale_workload") {
			t.Fatalf("calling an unlisted tool: err %v", err)
		}
		if after := env.Replicas(t, "backend"); after != before {
			t.Fatalf("replicas %d → %d under --read-only", before, after)
		}
	})
}

// TestStdioYesIsScoped: --yes approves changes in the server's namespace
// only, as on the CLI; elsewhere the change is refused and names the scope.
func TestStdioYesIsScoped(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	other := testcluster.New(t)
	env.Deployment(t, "web", 1)
	other.Deployment(t, "web", 1)
	s := startStdio(t, env, nil, "--yes")

	res := call(t, s.cs, "scale_workload", scaleArgs("web", 2))
	if res.IsError || env.Replicas(t, "web") != 2 {
		t.Fatalf("--yes in the server's namespace: isError=%v replicas=%d %s", res.IsError, env.Replicas(t, "web"), text(res))
	}
	args := scaleArgs("web", 2)
	args["namespace"] = other.Namespace
	res = call(t, s.cs, "scale_workload", args)
	if !res.IsError || !strings.Contains(text(res), "-n "+other.Namespace) {
		t.Fatalf("--yes outside the namespace: want a refusal naming -n %s; isError=%v %s", other.Namespace, res.IsError, text(res))
	}
	if got := other.Replicas(t, "web"); got != 1 {
		t.Fatalf("replicas in %s changed to %d under --yes scoped to %s", other.Namespace, got, env.Namespace)
	}
	// Scaling to 0 is destructive: --yes alone does not approve it.
	res = call(t, s.cs, "scale_workload", scaleArgs("web", 0))
	if !res.IsError || !strings.Contains(text(res), "--allow-destructive") {
		t.Fatalf("scale to 0 under --yes: isError=%v %s", res.IsError, text(res))
	}
	if got := env.Replicas(t, "web"); got != 2 {
		t.Fatalf("replicas %d after a refused scale to 0", got)
	}
}

// TestApprovalBoundToPreview changes the deployment while the person is
// being asked: the write made after the approval conflicts, the gate plans
// again against the new state and asks again, and only the second,
// accurate preview is applied.
func TestApprovalBoundToPreview(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	env.Deployment(t, "api", 1)
	var e elicitations
	handler := func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		e.record(req)
		if len(e.all()) == 1 {
			// Someone else scales the deployment after the preview was shown.
			patch := []byte(`{"spec":{"replicas":2}}`)
			if _, err := env.Client.AppsV1().Deployments(env.Namespace).Patch(ctx, "api", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				t.Errorf("concurrent change: %v", err)
			}
			// Let the controller finish, so the second preview is the last
			// state and only the change above makes the first one stale.
			env.WaitDeployment(t, "api", 2)
		}
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"approve": true}}, nil
	}
	s := startStdio(t, env, &mcp.ClientOptions{ElicitationHandler: handler})
	res := call(t, s.cs, "scale_workload", scaleArgs("api", 3))
	if res.IsError {
		t.Fatalf("scale: %s", text(res))
	}
	msgs := e.all()
	if len(msgs) != 2 {
		t.Fatalf("asked %d times, want twice (the object changed after the first preview): %q", len(msgs), msgs)
	}
	if !strings.Contains(msgs[0], "1 → 3") || !strings.Contains(msgs[1], "2 → 3") {
		t.Fatalf("previews %q: want 1 → 3, then 2 → 3 against the new state", msgs)
	}
	if got := env.Replicas(t, "api"); got != 3 {
		t.Fatalf("replicas %d, want 3", got)
	}
}

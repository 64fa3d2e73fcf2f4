package mcpserver_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/mcpserver"
	"github.com/opsagent/opsagent/internal/tools"
)

// listInMemory serves o without a cluster (listing needs none) and lists
// the tools with the official client.
func listInMemory(t *testing.T, o mcpserver.Options) []*mcp.Tool {
	t.Helper()
	srv, err := mcpserver.NewServer(&kube.Clients{}, o)
	if err != nil {
		t.Fatal(err)
	}
	ct, st := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	var out []*mcp.Tool
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tool)
	}
	return out
}

// checkAnnotations fails unless listed mirrors the registry: the same
// names, each with the registry's description and the hints its risk
// implies.
func checkAnnotations(t *testing.T, listed []*mcp.Tool, want []tools.Tool) {
	t.Helper()
	if len(listed) != len(want) {
		t.Fatalf("listed %d tools, the registry has %d", len(listed), len(want))
	}
	byName := map[string]*mcp.Tool{}
	for _, l := range listed {
		byName[l.Name] = l
	}
	for _, tool := range want {
		l := byName[tool.Name()]
		if l == nil {
			t.Errorf("%s is not listed", tool.Name())
			continue
		}
		a := l.Annotations
		if a == nil {
			t.Errorf("%s has no annotations", tool.Name())
			continue
		}
		if !strings.HasPrefix(l.Description, tool.Description()) {
			t.Errorf("%s: description %q does not start with the tool's own %q", tool.Name(), l.Description, tool.Description())
		}
		if a.ReadOnlyHint != !tool.Risk().Mutates() {
			t.Errorf("%s (%s): readOnlyHint %v", tool.Name(), tool.Risk(), a.ReadOnlyHint)
		}
		if tool.Risk() == tools.Destructive && (a.DestructiveHint == nil || !*a.DestructiveHint) {
			t.Errorf("%s is destructive but destructiveHint is not true", tool.Name())
		}
		if tool.Risk() == tools.Read && (a.DestructiveHint == nil || *a.DestructiveHint) {
			t.Errorf("%s only reads but destructiveHint is not false", tool.Name())
		}
		if a.OpenWorldHint == nil || *a.OpenWorldHint {
			t.Errorf("%s: openWorldHint should be false (one cluster, nothing else)", tool.Name())
		}
		if m, ok := l.InputSchema.(map[string]any); !ok || m["type"] != "object" {
			t.Errorf("%s: input schema %v is not an object schema", tool.Name(), l.InputSchema)
		}
	}
}

func TestListMirrorsRegistry(t *testing.T) {
	t.Parallel()
	checkAnnotations(t, listInMemory(t, options()), allTools())
}

func TestReadOnlyListsNoMutatingTool(t *testing.T) {
	t.Parallel()
	o := options()
	o.ReadOnly = true
	listed := listInMemory(t, o)
	var reads []tools.Tool
	for _, tool := range allTools() {
		if !tool.Risk().Mutates() {
			reads = append(reads, tool)
		}
	}
	if len(reads) == 0 || len(reads) == len(allTools()) {
		t.Fatalf("the registry has %d read tools of %d: the test would prove nothing", len(reads), len(allTools()))
	}
	checkAnnotations(t, listed, reads)
}

func TestSelectTools(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		readOnly bool
		tools    []string
		want     []string
		wantErr  string
	}{
		{name: "narrowed", tools: []string{"scale_workload", "diagnose"}, want: []string{"diagnose", "scale_workload"}},
		{name: "unknown name", tools: []string{"diagnose", "scale_everything"}, wantErr: "unknown tool scale_everything"},
		{name: "mutating under read-only", readOnly: true, tools: []string{"diagnose", "delete_pod"}, wantErr: "change the cluster (delete_pod)"},
		{name: "read-only and narrowed", readOnly: true, tools: []string{"pod_logs"}, want: []string{"pod_logs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := options()
			o.ReadOnly, o.Tools = tt.readOnly, tt.tools
			err := o.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, mcpserver.ErrInvalidOptions) {
					t.Fatalf("Validate() = %v, want ErrInvalidOptions with %q", err, tt.wantErr)
				}
				if _, err := mcpserver.NewServer(&kube.Clients{}, o); err == nil {
					t.Fatal("NewServer served options Validate refused")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range listInMemory(t, o) {
				got = append(got, l.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("listed %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPromptOnlyWithDiagnose: the diagnose_namespace prompt is offered only
// where the tool it asks for is served.
func TestPromptOnlyWithDiagnose(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tools []string
		want  bool
	}{{nil, true}, {[]string{"pod_logs"}, false}} {
		o := options()
		o.Tools = tc.tools
		srv, err := mcpserver.NewServer(&kube.Clients{}, o)
		if err != nil {
			t.Fatal(err)
		}
		ct, st := mcp.NewInMemoryTransports()
		ctx := context.Background()
		ss, err := srv.Connect(ctx, st, nil)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, ct, nil)
		if err != nil {
			t.Fatal(err)
		}
		has := cs.InitializeResult().Capabilities.Prompts != nil
		if has != tc.want {
			t.Errorf("tools %v: prompts offered %v, want %v", tc.tools, has, tc.want)
		}
		if has {
			res, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "diagnose_namespace", Arguments: map[string]string{"namespace": "todo"}})
			if err != nil {
				t.Fatal(err)
			}
			if msg := res.Messages[0].Content.(*mcp.TextContent).Text; !strings.Contains(msg, `namespace "todo"`) || !strings.Contains(msg, "diagnose") {
				t.Errorf("prompt text %q", msg)
			}
		}
		_ = cs.Close()
		_ = ss.Close()
	}
}

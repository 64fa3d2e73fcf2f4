package kubetools

import (
	"errors"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestPick(t *testing.T) {
	t.Parallel()
	dep := func(name string, labels ...string) candidate {
		c := candidate{Kind: "deployment", Name: name, Labels: map[string]string{}}
		for i := 0; i+1 < len(labels); i += 2 {
			c.Labels[labels[i]] = labels[i+1]
		}
		return c
	}
	sts := func(name string) candidate { return candidate{Kind: "statefulset", Name: name} }

	tests := []struct {
		name    string
		query   string
		cands   []candidate
		want    string
		wantErr error
		// wantInErr are substrings the error must contain (candidate lists).
		wantInErr []string
	}{
		{name: "exact", query: "backend", cands: []candidate{dep("backend"), dep("frontend")}, want: "deployment/backend"},
		{name: "suffix at dash", query: "backend", cands: []candidate{dep("todo-chatbot-backend"), dep("todo-chatbot-frontend")}, want: "deployment/todo-chatbot-backend"},
		{name: "prefix at dash", query: "backend", cands: []candidate{dep("backend-v2"), dep("frontend")}, want: "deployment/backend-v2"},
		{name: "component label", query: "backend", cands: []candidate{dep("api-server", "app.kubernetes.io/component", "backend"), dep("web")}, want: "deployment/api-server"},
		{name: "name label", query: "backend", cands: []candidate{dep("srv", "app.kubernetes.io/name", "backend"), dep("web")}, want: "deployment/srv"},
		{name: "app label", query: "backend", cands: []candidate{dep("srv", "app", "backend"), dep("web")}, want: "deployment/srv"},
		{name: "exact wins over loose", query: "backend", cands: []candidate{dep("backend"), dep("todo-backend"), dep("x", "app", "backend")}, want: "deployment/backend"},
		{name: "statefulset when no deployment", query: "db", cands: []candidate{dep("web"), sts("todo-db")}, want: "statefulset/todo-db"},
		{name: "spoken name normalised", query: " Todo Chatbot Backend ", cands: []candidate{dep("todo-chatbot-backend")}, want: "deployment/todo-chatbot-backend"},
		{name: "one object matching several ways counts once", query: "backend", cands: []candidate{dep("todo-backend", "app", "backend")}, want: "deployment/todo-backend"},
		{name: "not a dash boundary", query: "end", cands: []candidate{dep("backend"), dep("frontend")}, wantErr: tools.ErrNotFound,
			wantInErr: []string{"deployment/backend", "deployment/frontend"}},
		{name: "substring is not enough", query: "chat", cands: []candidate{dep("todo-chatbot-backend")}, wantErr: tools.ErrNotFound},
		{name: "ambiguous loose", query: "backend", cands: []candidate{dep("a-backend"), dep("b-backend"), dep("web")}, wantErr: tools.ErrAmbiguous,
			wantInErr: []string{"deployment/a-backend", "deployment/b-backend"}},
		{name: "ambiguous across kinds", query: "db", cands: []candidate{dep("db"), sts("db")}, wantErr: tools.ErrAmbiguous,
			wantInErr: []string{"deployment/db", "statefulset/db"}},
		{name: "label and suffix on different objects", query: "backend", cands: []candidate{dep("todo-backend"), dep("api", "app", "backend")}, wantErr: tools.ErrAmbiguous},
		{name: "empty namespace", query: "backend", cands: nil, wantErr: tools.ErrNotFound, wantInErr: []string{"no workloads there"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := pick(tt.query, tt.cands, "workload", "namespace todo")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("pick(%q) error = %v, want %v", tt.query, err, tt.wantErr)
				}
				for _, s := range tt.wantInErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("pick(%q): %v", tt.query, err)
			}
			if got.String() != tt.want {
				t.Errorf("pick(%q) = %s, want %s", tt.query, got, tt.want)
			}
		})
	}
}

func TestPickListsAtMostMaxListed(t *testing.T) {
	t.Parallel()
	var cands []candidate
	for i := range 40 {
		cands = append(cands, candidate{Kind: "deployment", Name: "svc-" + itoa(i)})
	}
	_, err := pick("nothing", cands, "workload", "namespace x")
	if !errors.Is(err, tools.ErrNotFound) || !strings.Contains(err.Error(), "and 25 more") {
		t.Fatalf("error = %v, want ErrNotFound listing 15 names and 25 more", err)
	}
}

func TestSplitKindPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, kind, name string }{
		{"backend", "", "backend"},
		{"deploy/backend", "deploy", "backend"},
		{" sts/db ", "sts", "db"},
	}
	for _, tt := range tests {
		if k, n := splitKindPrefix(tt.in); k != tt.kind || n != tt.name {
			t.Errorf("splitKindPrefix(%q) = %q, %q; want %q, %q", tt.in, k, n, tt.kind, tt.name)
		}
	}
}

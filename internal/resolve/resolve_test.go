package resolve_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/resolve"
	"github.com/opsagent/opsagent/internal/tools"
)

func TestLookupKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		word, kind, group, resource string
		workload                    bool
	}{
		{"deploy", "Deployment", "apps", "deployments", true},
		{"Deployments", "Deployment", "apps", "deployments", true},
		{" deployments.apps ", "Deployment", "apps", "deployments", true},
		{"statefulset.apps", "StatefulSet", "apps", "statefulsets", true},
		{"po", "Pod", "", "pods", false},
		{"svc", "Service", "", "services", false},
		{"hpa", "HorizontalPodAutoscaler", "autoscaling", "horizontalpodautoscalers", false},
		{"events", "Event", "", "events", false}, // core, not events.k8s.io
		{"crds", "CustomResourceDefinition", "apiextensions.k8s.io", "customresourcedefinitions", false},
	}
	for _, tt := range tests {
		k, ok := resolve.LookupKind(tt.word)
		if !ok || k.Kind != tt.kind || k.Group != tt.group || k.Resource != tt.resource || k.Workload != tt.workload {
			t.Errorf("LookupKind(%q) = %+v, %v; want %s %s/%s workload=%v", tt.word, k, ok, tt.kind, tt.group, tt.resource, tt.workload)
		}
	}
	for _, w := range []string{"", "backend", "deployment.batch", "pod/x"} {
		if k, ok := resolve.LookupKind(w); ok {
			t.Errorf("LookupKind(%q) = %+v, want no kind", w, k)
		}
	}
}

// Every spelling names one kind: an alias added twice would silently win
// over another kind's.
func TestKindWordsAreUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, k := range resolve.Kinds() {
		words := append([]string{k.Name(), k.Resource}, k.Aliases...)
		for _, w := range words {
			if other, dup := seen[w]; dup && other != k.Kind {
				t.Errorf("%q names both %s and %s", w, other, k.Kind)
			}
			seen[w] = k.Kind
		}
	}
}

func TestPick(t *testing.T) {
	t.Parallel()
	cand := func(kind, name string, rank int, labels ...string) resolve.Candidate {
		c := resolve.Candidate{Kind: kind, Name: name, Labels: map[string]string{}, Rank: rank}
		for i := 0; i+1 < len(labels); i += 2 {
			c.Labels[labels[i]] = labels[i+1]
		}
		return c
	}
	dep := func(name string, labels ...string) resolve.Candidate { return cand("deployment", name, 0, labels...) }
	sts := func(name string) resolve.Candidate { return cand("statefulset", name, 0) }
	pod := func(name string) resolve.Candidate { return cand("pod", name, 1) }

	tests := []struct {
		name    string
		query   string
		cands   []resolve.Candidate
		want    string
		wantErr error
		// wantInErr are substrings the error must contain (candidate lists).
		wantInErr []string
	}{
		{name: "exact", query: "backend", cands: []resolve.Candidate{dep("backend"), dep("frontend")}, want: "deployment/backend"},
		{name: "suffix at dash", query: "backend", cands: []resolve.Candidate{dep("todo-chatbot-backend"), dep("todo-chatbot-frontend")}, want: "deployment/todo-chatbot-backend"},
		{name: "prefix at dash", query: "backend", cands: []resolve.Candidate{dep("backend-v2"), dep("frontend")}, want: "deployment/backend-v2"},
		{name: "whole word inside", query: "chatbot", cands: []resolve.Candidate{dep("todo-chatbot-backend"), dep("web")}, want: "deployment/todo-chatbot-backend"},
		{name: "component label", query: "backend", cands: []resolve.Candidate{dep("api-server", "app.kubernetes.io/component", "backend"), dep("web")}, want: "deployment/api-server"},
		{name: "name label", query: "backend", cands: []resolve.Candidate{dep("srv", "app.kubernetes.io/name", "backend"), dep("web")}, want: "deployment/srv"},
		{name: "app label", query: "backend", cands: []resolve.Candidate{dep("srv", "app", "backend"), dep("web")}, want: "deployment/srv"},
		{name: "exact wins over loose", query: "backend", cands: []resolve.Candidate{dep("backend"), dep("todo-backend"), dep("x", "app", "backend")}, want: "deployment/backend"},
		{name: "statefulset when no deployment", query: "db", cands: []resolve.Candidate{dep("web"), sts("todo-db")}, want: "statefulset/todo-db"},
		{name: "spoken name normalised", query: " Todo Chatbot Backend ", cands: []resolve.Candidate{dep("todo-chatbot-backend")}, want: "deployment/todo-chatbot-backend"},
		{name: "one object matching several ways counts once", query: "backend", cands: []resolve.Candidate{dep("todo-backend", "app", "backend")}, want: "deployment/todo-backend"},
		{name: "workload before its pods", query: "backend", cands: []resolve.Candidate{dep("todo-backend"), pod("todo-backend-5d9f-abcde"), pod("todo-backend-5d9f-fghij")}, want: "deployment/todo-backend"},
		{name: "a pod when no workload matches", query: "worker", cands: []resolve.Candidate{dep("web"), pod("worker-1")}, want: "pod/worker-1"},
		{name: "exact-only candidates need the exact name", query: "nightly", cands: []resolve.Candidate{cand("job", "nightly-29001", resolve.ExactOnly)}, wantErr: tools.ErrNotFound},
		{name: "exact-only candidate by exact name", query: "nightly-29001", cands: []resolve.Candidate{cand("job", "nightly-29001", resolve.ExactOnly)}, want: "job/nightly-29001"},
		{name: "not a dash boundary", query: "end", cands: []resolve.Candidate{dep("backend"), dep("frontend")}, wantErr: tools.ErrNotFound,
			wantInErr: []string{"deployment/backend", "deployment/frontend"}},
		{name: "substring is not enough", query: "chat", cands: []resolve.Candidate{dep("todo-chatbot-backend")}, wantErr: tools.ErrNotFound},
		{name: "ambiguous loose", query: "backend", cands: []resolve.Candidate{dep("a-backend"), dep("b-backend"), dep("web")}, wantErr: tools.ErrAmbiguous,
			wantInErr: []string{"deployment/a-backend", "deployment/b-backend"}},
		{name: "ambiguous exact across kinds", query: "db", cands: []resolve.Candidate{dep("db"), sts("db")}, wantErr: tools.ErrAmbiguous,
			wantInErr: []string{"deployment/db", "statefulset/db"}},
		{name: "label and suffix on different objects", query: "backend", cands: []resolve.Candidate{dep("todo-backend"), dep("api", "app", "backend")}, wantErr: tools.ErrAmbiguous},
		{name: "empty namespace", query: "backend", cands: nil, wantErr: tools.ErrNotFound, wantInErr: []string{"no workloads there"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := resolve.Pick(tt.query, tt.cands, resolve.Where{Noun: "workload", Listed: "workloads", In: "namespace todo"})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Pick(%q) error = %v, want %v", tt.query, err, tt.wantErr)
				}
				for _, s := range tt.wantInErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Pick(%q): %v", tt.query, err)
			}
			if got.String() != tt.want {
				t.Errorf("Pick(%q) = %s, want %s", tt.query, got, tt.want)
			}
		})
	}
}

func TestPickListsAtMost15(t *testing.T) {
	t.Parallel()
	var cands []resolve.Candidate
	for i := range 40 {
		cands = append(cands, resolve.Candidate{Kind: "deployment", Name: "svc-" + strconv.Itoa(i)})
	}
	_, err := resolve.Pick("nothing", cands, resolve.Where{Noun: "workload", Listed: "workloads", In: "namespace x"})
	if !errors.Is(err, tools.ErrNotFound) || !strings.Contains(err.Error(), "and 25 more") {
		t.Fatalf("error = %v, want ErrNotFound listing 15 names and 25 more", err)
	}
}

// TestPickPartial: from a partial list only an exact name is picked; a
// loose match or none is an error that says the list was partial.
func TestPickPartial(t *testing.T) {
	t.Parallel()
	cands := []resolve.Candidate{{Kind: "deployment", Name: "todo-backend"}, {Kind: "deployment", Name: "todo-frontend"}}
	w := resolve.Where{Noun: "deployment", Listed: "deployments", In: "namespace todo", Partial: "only the first 2 deployments were read"}
	tests := []struct {
		name, query string
		want        string
		wantErr     error
	}{
		{name: "exact", query: "todo-backend", want: "deployment/todo-backend"},
		{name: "loose match refused", query: "backend", wantErr: tools.ErrAmbiguous},
		{name: "none", query: "db", wantErr: tools.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := resolve.Pick(tt.query, cands, w)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), w.Partial) {
					t.Fatalf("Pick(%q) = %s, %v; want %v saying %q", tt.query, got, err, tt.wantErr, w.Partial)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("Pick(%q) = %s, %v; want %s", tt.query, got, err, tt.want)
			}
		})
	}
}

func TestSplitKind(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, kind, name string }{
		{"backend", "", "backend"},
		{"deploy/backend", "deploy", "backend"},
		{" sts/db ", "sts", "db"},
	}
	for _, tt := range tests {
		if k, n := resolve.SplitKind(tt.in); k != tt.kind || n != tt.name {
			t.Errorf("SplitKind(%q) = %q, %q; want %q, %q", tt.in, k, n, tt.kind, tt.name)
		}
	}
}

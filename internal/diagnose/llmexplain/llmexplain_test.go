package llmexplain

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/diagnose"
)

// fakeOpenAI is an OpenAI-compatible chat endpoint that records requests.
type fakeOpenAI struct {
	mu             sync.Mutex
	bodies         []string
	inFlight, peak atomic.Int32
	fail           func(body string) bool
	delay          time.Duration
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer test-key" {
		http.Error(w, "unexpected request", http.StatusNotFound)
		return
	}
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(f.delay)
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	if f.fail != nil && f.fail(string(body)) {
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"error":{"message":"rate limited","type":"rate_limit"}}`)
		return
	}
	var req openai.ChatCompletionRequest
	_ = json.Unmarshal(body, &req)
	var group struct {
		Object string `json:"object"`
	}
	_ = json.Unmarshal([]byte(req.Messages[1].Content), &group)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "x", "object": "chat.completion", "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": "Explained " + group.Object}}},
	})
}

func (f *fakeOpenAI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

func report(groups int) *diagnose.Report {
	r := &diagnose.Report{APIVersion: diagnose.APIVersion, Kind: diagnose.KindDiagnoseReport}
	for i := range groups {
		r.Groups = append(r.Groups, diagnose.Group{
			Object: diagnose.ObjectRef{Kind: "Deployment", Namespace: "todo", Name: fmt.Sprintf("app-%d", i)}, Severity: diagnose.Critical,
			Findings: []diagnose.Finding{{
				Rule: diagnose.RulePodCrashLoopBackOff, Severity: diagnose.Critical,
				Object:  diagnose.ObjectRef{Kind: "Pod", Namespace: "todo", Name: fmt.Sprintf("app-%d-abc", i)},
				Summary: fmt.Sprintf("container app is in CrashLoopBackOff, %d restarts", i+5),
				Evidence: diagnose.Evidence{
					Status: []string{"container app: waiting: CrashLoopBackOff"},
					Events: []diagnose.Event{{Type: "Warning", Reason: "BackOff", Message: "Back-off restarting failed container", Count: int32(10 + i), LastSeen: time.Now()}},
					Logs:   &diagnose.LogExcerpt{Pod: "p", Container: "app", Previous: true, Lines: []string{"connecting as admin password=hunter2-secret", "FATAL: auth failed"}},
				},
				Cause: "The container keeps exiting.",
				Fixes: []diagnose.Fix{{Description: "Read the log", Command: "kubectl logs p --previous"}},
			}},
		})
	}
	return r
}

func newExplainer(t *testing.T, srv *httptest.Server, cfg Config) *Explainer {
	t.Helper()
	cfg.Client = NewClient(config.Config{APIKey: "test-key", BaseURL: srv.URL + "/v1", APIType: config.APITypeOpenAI})
	cfg.Model = "test-model"
	return New(cfg)
}

func TestExplainOneRequestPerGroupBoundedAndCached(t *testing.T) {
	t.Parallel()
	fake := &fakeOpenAI{delay: 50 * time.Millisecond}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cache := t.TempDir()
	e := newExplainer(t, srv, Config{CacheDir: cache, Concurrency: 2})

	r := report(5)
	if err := e.Explain(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got := len(fake.requests()); got != 5 {
		t.Fatalf("%d requests, want one per group (5)", got)
	}
	if p := fake.peak.Load(); p > 2 {
		t.Errorf("%d requests at once, want at most 2", p)
	}
	for _, g := range r.Groups {
		if g.Explanation == nil || g.Explanation.Text != "Explained "+g.Object.String() || g.Explanation.Cached {
			t.Errorf("group %s: explanation %+v", g.Object, g.Explanation)
		}
	}
	for _, body := range fake.requests() {
		if strings.Contains(body, "hunter2") {
			t.Errorf("a secret reached the model: %s", body)
		}
		if !strings.Contains(body, "[REDACTED]") || !strings.Contains(body, "FATAL: auth failed") {
			t.Errorf("the evidence is not in the request: %s", body)
		}
	}
	if r.Explain == nil || r.Explain.Source != "llm" || r.Explain.Model != "test-model" {
		t.Errorf("report explain status %+v", r.Explain)
	}

	// The same problems again, with restart and event counts moved on: all
	// answers come from the cache.
	again := report(5)
	for i := range again.Groups {
		again.Groups[i].Findings[0].Summary = "container app is in CrashLoopBackOff, 99 restarts"
		again.Groups[i].Findings[0].Evidence.Events[0].Count = 99
	}
	if err := e.Explain(context.Background(), again); err != nil {
		t.Fatal(err)
	}
	if got := len(fake.requests()); got != 5 {
		t.Errorf("%d requests after the second run, want no new ones", got)
	}
	for _, g := range again.Groups {
		if g.Explanation == nil || !g.Explanation.Cached {
			t.Errorf("group %s not served from the cache: %+v", g.Object, g.Explanation)
		}
	}
}

func TestExplainErrorsAndCap(t *testing.T) {
	t.Parallel()
	fake := &fakeOpenAI{fail: func(body string) bool { return strings.Contains(body, "app-1") }}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	e := newExplainer(t, srv, Config{MaxGroups: 3})
	r := report(4)
	if err := e.Explain(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if len(fake.requests()) != 3 {
		t.Errorf("%d requests, want 3 (MaxGroups)", len(fake.requests()))
	}
	if ex := r.Groups[1].Explanation; ex == nil || !strings.Contains(ex.Error, "429") {
		t.Errorf("failed group explanation = %+v, want the endpoint's error", ex)
	}
	if r.Groups[0].Explanation == nil || r.Groups[0].Explanation.Text == "" || r.Groups[3].Explanation != nil {
		t.Errorf("explanations: %+v / %+v", r.Groups[0].Explanation, r.Groups[3].Explanation)
	}
	if !strings.Contains(r.Explain.Note, "3 most severe of 4") {
		t.Errorf("note = %q", r.Explain.Note)
	}
}

func TestRulesOnlyAndCacheDir(t *testing.T) {
	t.Parallel()
	r := report(1)
	RulesOnly(r)
	if r.Explain.Source != "rules" || !strings.Contains(r.Explain.Note, "OPENAI_API_KEY is not set") {
		t.Errorf("explain = %+v", r.Explain)
	}
	env := map[string]string{"XDG_CACHE_HOME": "/x/cache"}
	if got := CacheDir(func(k string) string { return env[k] }); got != "/x/cache/opsagent/explain" {
		t.Errorf("CacheDir = %s", got)
	}
}

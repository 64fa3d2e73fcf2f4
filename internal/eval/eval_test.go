package eval

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// suiteDir is the task suite kept in the repository.
const suiteDir = "../../eval/tasks"

func TestSuiteLoads(t *testing.T) {
	tasks, err := LoadTasks(suiteDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) < 25 {
		t.Errorf("the suite has %d tasks, want at least 25", len(tasks))
	}
	var adversarial, canaries int
	for _, task := range tasks {
		if !task.HasModelScript() {
			t.Errorf("%s: every prompt needs a model script for --model-script", task.Name)
		}
		if task.Adversarial {
			adversarial++
		}
		if task.Canary != "" {
			canaries++
		}
		for _, s := range task.Script {
			if _, err := renderSteps(s.Model, TemplateData{Namespace: "ns", Task: task.Name}); err != nil {
				t.Errorf("%s: %v", task.Name, err)
			}
		}
	}
	if adversarial < 3 || canaries < 1 {
		t.Errorf("want at least 3 adversarial tasks and a canary, got %d and %d", adversarial, canaries)
	}
}

func TestLoadTaskRejects(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"unknown field", "script: [{prompt: hi, model: [{answer: ok}]}]\nverifier: v.sh\nbogus: 1\n", "bogus"},
		{"no verifier", "script: [{prompt: hi}]\n", "cannot fail"},
		{"no answer at the end", "script: [{prompt: hi, model: [{tool: x}]}]\nverifier: v.sh\n", "must end with an answer"},
		{"answer too early", "script: [{prompt: hi, model: [{answer: a}, {answer: b}]}]\nverifier: v.sh\n", "must be the last"},
		{"tool and answer", "script: [{prompt: hi, model: [{tool: x, answer: a}]}]\nverifier: v.sh\n", "exactly one"},
		{"args not an object", "script: [{prompt: hi, model: [{tool: x, args: [1]}, {answer: a}]}]\nverifier: v.sh\n", "object"},
		{"bad regex", "script: [{prompt: hi}]\nexpect: [{contains: '('}]\n", "expect 1"},
		{"script outside the folder", "script: [{prompt: hi}]\nverifier: ../v.sh\n", "inside the task folder"},
		{"missing script", "script: [{prompt: hi}]\nverifier: nope.sh\n", "nope.sh"},
		{"short canary", "script: [{prompt: hi}]\nverifier: v.sh\ncanary: abc\n", "canary"},
		{"reserved flag", "script: [{prompt: hi}]\nverifier: v.sh\nflags: [\"--namespace=x\"]\n", "set by opsagent eval"},
		{"cluster isolation", "script: [{prompt: hi}]\nverifier: v.sh\nisolation: cluster\n", "isolation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, TaskFile), tt.yaml)
			writeFile(t, filepath.Join(dir, "v.sh"), "exit 0\n")
			_, err := LoadTask(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadTask error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadTasksSelectsAndSkips(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"a", "b", "_lib", "off"} {
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		yaml := "script: [{prompt: hi}]\nexpect: [{contains: x}]\n"
		if name == "off" {
			yaml += "disabled: true\n"
		}
		if name != "_lib" {
			writeFile(t, filepath.Join(dir, TaskFile), yaml)
		}
	}
	names := func(ts []*Task) string {
		var out []string
		for _, t := range ts {
			out = append(out, t.Name)
		}
		return strings.Join(out, ",")
	}
	all, err := LoadTasks(root, nil)
	if err != nil || names(all) != "a,b" {
		t.Fatalf("LoadTasks = %q, %v; want a,b (disabled and _lib skipped)", names(all), err)
	}
	some, err := LoadTasks(root, []string{"off"})
	if err != nil || names(some) != "off" {
		t.Fatalf("LoadTasks(off) = %q, %v; a disabled task runs when named", names(some), err)
	}
	if _, err := LoadTasks(root, []string{"nope"}); err == nil {
		t.Fatal("an unknown task name must be an error")
	}
}

func TestScriptedModelReplaysAndRecords(t *testing.T) {
	m, err := NewScriptedModel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	steps := []ModelStep{
		{Tool: "get_resource", Args: json.RawMessage(`{"kind":"pod","name":"web","namespace":"{{.Namespace}}"}`)},
		{Calls: []ToolCall{{Tool: "a"}, {Tool: "b", Args: json.RawMessage(`{}`)}}, Delay: "10ms"},
		{Answer: "done in {{.Namespace}}"},
	}
	s, err := m.NewSession(steps, TemplateData{Namespace: "eval-x"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := openai.DefaultConfig("key")
	cfg.BaseURL = s.BaseURL
	client := openai.NewClientWithConfig(cfg)
	msgs := []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "hello"}}
	ask := func() openai.ChatCompletionMessage {
		t.Helper()
		resp, err := client.CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{Model: "m", Messages: msgs})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Usage.PromptTokens == 0 {
			t.Error("usage is not estimated")
		}
		return resp.Choices[0].Message
	}
	first := ask()
	if len(first.ToolCalls) != 1 || first.ToolCalls[0].Function.Arguments != `{"kind":"pod","name":"web","namespace":"eval-x"}` {
		t.Fatalf("first reply = %+v", first)
	}
	// A retry of the same conversation gets the same reply.
	if again := ask(); again.ToolCalls[0].ID != first.ToolCalls[0].ID {
		t.Fatalf("a retried request got another reply: %+v", again)
	}
	msgs = append(msgs, first, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleTool, ToolCallID: first.ToolCalls[0].ID, Content: "{}"})
	start := time.Now()
	second := ask()
	if len(second.ToolCalls) != 2 || second.ToolCalls[1].Function.Name != "b" || second.ToolCalls[0].Function.Arguments != "{}" {
		t.Fatalf("second reply = %+v", second)
	}
	if time.Since(start) < 10*time.Millisecond {
		t.Error("the delay was not honoured")
	}
	msgs = append(msgs, second)
	if third := ask(); third.Content != "done in eval-x" {
		t.Fatalf("third reply = %+v", third)
	}
	msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: "x"})
	_ = ask()
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0], "script has 3") {
		t.Fatalf("problems = %q, want the exhausted script noted", p)
	}
	if n := len(s.Requests()); n != 5 {
		t.Fatalf("recorded %d requests, want 5", n)
	}
	if !bytes.Contains(s.Requests()[0], []byte(`"hello"`)) {
		t.Fatalf("request body not recorded: %s", s.Requests()[0])
	}
}

func TestRecordingProxyForwards(t *testing.T) {
	var gotPath, gotAuth string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte("ping")) {
			http.Error(w, "body lost", http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(openai.ChatCompletionResponse{Choices: []openai.ChatCompletionChoice{{
			Message: openai.ChatCompletionMessage{Role: "assistant", Content: "pong"}}}})
	}))
	t.Cleanup(upstream.Close)
	m, err := NewRecordingProxy(upstream.URL + "/v1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	s, err := m.NewSession(nil, TemplateData{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := openai.DefaultConfig("secret-key")
	cfg.BaseURL = s.BaseURL
	resp, err := openai.NewClientWithConfig(cfg).CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{
		Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "ping"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "pong" || gotPath != "/v1/chat/completions" || gotAuth != "Bearer secret-key" {
		t.Fatalf("proxied: answer %q, path %q, auth %q", resp.Choices[0].Message.Content, gotPath, gotAuth)
	}
	if len(s.Requests()) != 1 {
		t.Fatalf("recorded %d requests, want 1", len(s.Requests()))
	}
}

func TestCanaryLeaks(t *testing.T) {
	canary := "cnry-0123456789"
	bodies := [][]byte{
		[]byte(`{"content":"nothing here [REDACTED]"}`),
		[]byte(`{"content":"password ` + canary + `"}`),
		[]byte(`{"content":"data: ` + base64.StdEncoding.EncodeToString([]byte(canary)) + `"}`),
	}
	if n := canaryLeaks(bodies, canary); n != 2 {
		t.Fatalf("canaryLeaks = %d, want 2 (plain and base64)", n)
	}
}

func TestActionScope(t *testing.T) {
	tests := []struct {
		name   string
		action Action
		want   int
	}{
		{"targets inside", Action{Preview: &Preview{Targets: []Target{{Kind: "Deployment", Namespace: "ns", Name: "a"}}}}, 0},
		{"target elsewhere", Action{Preview: &Preview{Targets: []Target{{Kind: "Deployment", Namespace: "kube-system", Name: "a"}}}}, 1},
		{"cluster-scoped", Action{Preview: &Preview{Targets: []Target{{Kind: "Node", Name: "n"}}}}, 1},
		{"no targets, namespace argument", Action{Tool: "t", Args: json.RawMessage(`{"namespace":"other"}`)}, 1},
		{"no targets, no namespace", Action{Tool: "t", Args: json.RawMessage(`{}`)}, 0},
	}
	for _, tt := range tests {
		if got := tt.action.outside("ns"); len(got) != tt.want {
			t.Errorf("%s: outside = %q, want %d", tt.name, got, tt.want)
		}
	}
	ran := Action{Risk: "write", Approved: true, ApprovedBy: "--yes"}
	if !ran.executed() || (Action{Risk: "write", Approved: true, NoChange: true}).executed() ||
		(Action{Risk: "read", Approved: true}).executed() {
		t.Error("executed() misjudges")
	}
	if !(Action{Risk: "destructive", Error: "approval required"}).refused() {
		t.Error("refused() misjudges")
	}
}

func TestCountAudited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if n, err := countAudited(path); n != 0 || err != nil {
		t.Fatalf("missing log: %d, %v", n, err)
	}
	writeFile(t, path, `{"phase":"started","tool":"a"}
{"phase":"done","tool":"a"}
{"tool":"old-format"}

`)
	if n, err := countAudited(path); n != 2 || err != nil {
		t.Fatalf("countAudited = %d, %v; want 2 (a done entry and an old one)", n, err)
	}
}

func TestReportPassAt1(t *testing.T) {
	r := &Report{Repeat: 2, Attempts: []*Attempt{
		{Task: "a", Attempt: 1, Passed: true, LLMCalls: 2},
		{Task: "a", Attempt: 2, Passed: false, Reason: "verify.sh failed", LLMCalls: 3},
		{Task: "b", Attempt: 1, Passed: true, LLMCalls: 1, CanaryChecked: true},
		{Task: "b", Attempt: 2, Passed: true, LLMCalls: 1, CanaryChecked: true},
	}}
	r.finish()
	s := r.Summary
	if s.Tasks != 2 || s.Passed != 1 || s.PassAt1 != 0.75 || s.LLMCalls != 7 || s.CanaryTasks != 1 || r.AllPassed() {
		t.Fatalf("summary = %+v", s)
	}
	if r.Tasks[0].Reason != "verify.sh failed" || r.Tasks[0].PassRate != 0.5 {
		t.Fatalf("task a = %+v", r.Tasks[0])
	}
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1/2", "2/2", "pass@1 0.75", "canary: in none of them"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Summary.PassAt1 != 0.75 {
		t.Fatalf("JSON round trip: %v, %+v", err, back.Summary)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScriptFailure(t *testing.T) {
	err := errors.New("exit status 1")
	if got := scriptFailure("verify.sh", err, "waiting\nFAIL: no pod\n"); got != "verify.sh failed (exit status 1): FAIL: no pod\nwaiting" {
		t.Errorf("scriptFailure = %q", got)
	}
	if got := scriptFailure("setup.sh", err, "  \n"); got != "setup.sh failed (exit status 1)" {
		t.Errorf("scriptFailure without output = %q", got)
	}
}

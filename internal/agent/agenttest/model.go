package agenttest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	openai "github.com/sashabaranov/go-openai"
)

// Reply is one scripted response of the fake model.
type Reply struct {
	// Status, if not 0 or 200, makes the server answer with this HTTP status
	// and an OpenAI-style error body.
	Status  int
	Message openai.ChatCompletionMessage
}

// Answer is a final text answer.
func Answer(text string) Reply {
	return Reply{Message: openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: text}}
}

// Calls is a response asking for the given tool calls (in order).
func Calls(calls ...openai.ToolCall) Reply {
	return Reply{Message: openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, ToolCalls: calls}}
}

// Call is one tool call with JSON arguments.
func Call(id, tool, args string) openai.ToolCall {
	return openai.ToolCall{ID: id, Type: openai.ToolTypeFunction,
		Function: openai.FunctionCall{Name: tool, Arguments: args}}
}

// Fail is an HTTP error response (429, 500, ...).
func Fail(status int) Reply { return Reply{Status: status} }

// Request is one request the fake model received.
type Request struct {
	// Body is the raw request body, as sent over the wire.
	Body string
	Chat openai.ChatCompletionRequest
}

// ToolMessages returns the contents of the request's tool messages.
func (r Request) ToolMessages() []string {
	var out []string
	for _, m := range r.Chat.Messages {
		if m.Role == openai.ChatMessageRoleTool {
			out = append(out, m.Content)
		}
	}
	return out
}

// ToolMessagesByID maps each tool call's ID to the content of its tool
// message in the request: what the model was shown of that call.
func (r Request) ToolMessagesByID() map[string]string {
	out := map[string]string{}
	for _, m := range r.Chat.Messages {
		if m.Role == openai.ChatMessageRoleTool {
			out[m.ToolCallID] = m.Content
		}
	}
	return out
}

// FakeModel is an OpenAI-compatible chat completions server that replays a
// script and records every request body. Use it through the real go-openai
// client, with BaseURL set to URL().
type FakeModel struct {
	t      testing.TB
	srv    *httptest.Server
	script func(n int, req openai.ChatCompletionRequest) Reply

	mu       sync.Mutex
	requests []Request
}

// NewFakeModel serves replies in order; a request past the end fails the test.
func NewFakeModel(t testing.TB, replies ...Reply) *FakeModel {
	return NewFakeModelFunc(t, func(n int, _ openai.ChatCompletionRequest) Reply {
		if n >= len(replies) {
			t.Errorf("fake model: request %d but only %d replies scripted", n+1, len(replies))
			return Fail(http.StatusBadRequest)
		}
		return replies[n]
	})
}

// NewFakeModelFunc serves the reply script returns for the n-th request
// (from 0).
func NewFakeModelFunc(t testing.TB, script func(n int, req openai.ChatCompletionRequest) Reply) *FakeModel {
	f := &FakeModel{t: t, script: script}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the base URL to configure (OPENAI_BASE_URL).
func (f *FakeModel) URL() string { return f.srv.URL + "/v1" }

// Client returns a real go-openai client talking to the fake.
func (f *FakeModel) Client() *openai.Client {
	cfg := openai.DefaultConfig("test-key")
	cfg.BaseURL = f.URL()
	return openai.NewClientWithConfig(cfg)
}

// Requests returns the requests received so far.
func (f *FakeModel) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

func (f *FakeModel) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, "fake model serves only /chat/completions", http.StatusNotFound)
		return
	}
	var chat openai.ChatCompletionRequest
	if err := json.Unmarshal(body, &chat); err != nil {
		f.t.Errorf("fake model: request body is not a chat request: %v", err)
	}
	f.mu.Lock()
	n := len(f.requests)
	f.requests = append(f.requests, Request{Body: string(body), Chat: chat})
	f.mu.Unlock()

	reply := f.script(n, chat)
	w.Header().Set("Content-Type", "application/json")
	if reply.Status != 0 && reply.Status != http.StatusOK {
		w.WriteHeader(reply.Status)
		_, _ = fmt.Fprintf(w, `{"error":{"message":"fake model: status %d","type":"server_error"}}`, reply.Status)
		return
	}
	finish := openai.FinishReasonStop
	if len(reply.Message.ToolCalls) > 0 {
		finish = openai.FinishReasonToolCalls
	}
	resp := openai.ChatCompletionResponse{
		ID: fmt.Sprintf("chatcmpl-%d", n), Object: "chat.completion", Model: chat.Model,
		Choices: []openai.ChatCompletionChoice{{Index: 0, Message: reply.Message, FinishReason: finish}},
		// A chars/4 estimate, so that usage figures are comparable between runs.
		Usage: openai.Usage{PromptTokens: len(body) / 4, CompletionTokens: 20, TotalTokens: len(body)/4 + 20},
	}
	_ = json.NewEncoder(w).Encode(resp)
}

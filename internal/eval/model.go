package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"text/template"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// ScriptedModelName is the model name the agent is configured with under
// --model-script.
const ScriptedModelName = "opsagent-scripted"

// maxRequestBody bounds what the model server reads of one request.
const maxRequestBody = 32 << 20

// ModelServer stands between the agent and its model, on 127.0.0.1, and
// records every request body it receives, so a task can check what reached
// the model (the canary). It either plays a scripted model that replays a
// task's tool calls (NewScriptedModel), or forwards to a real
// OpenAI-compatible endpoint (NewRecordingProxy). Each agent run talks to
// its own Session, under its own URL path.
type ModelServer struct {
	srv      *http.Server
	base     string
	upstream *url.URL // nil: scripted

	mu       sync.Mutex
	sessions map[string]*Session
	next     int
}

// Session is one agent run's conversation with the model server.
type Session struct {
	// BaseURL is what the agent must use as OPENAI_BASE_URL.
	BaseURL string

	id    string
	steps []ModelStep // rendered; nil when proxying

	mu       sync.Mutex
	requests [][]byte
	problems []string
}

// NewScriptedModel starts a fake OpenAI-compatible server whose sessions
// reply with a task's model steps.
func NewScriptedModel() (*ModelServer, error) { return newModelServer(nil) }

// NewRecordingProxy starts a server whose sessions forward every request to
// the endpoint at baseURL (OPENAI_BASE_URL; "" means OpenAI's), recording it.
func NewRecordingProxy(baseURL string) (*ModelServer, error) {
	if baseURL == "" {
		baseURL = openai.DefaultConfig("").BaseURL
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("model endpoint %q is not an absolute URL", baseURL)
	}
	return newModelServer(u)
}

func newModelServer(upstream *url.URL) (*ModelServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("model server: %w", err)
	}
	m := &ModelServer{base: "http://" + ln.Addr().String(), upstream: upstream, sessions: map[string]*Session{}}
	m.srv = &http.Server{Handler: http.HandlerFunc(m.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = m.srv.Serve(ln) }() // ends with Close
	return m, nil
}

// Scripted reports whether the server plays the scripted model.
func (m *ModelServer) Scripted() bool { return m.upstream == nil }

// Close stops the server.
func (m *ModelServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return m.srv.Shutdown(ctx)
}

// TemplateData is what {{...}} in scripted arguments and answers can use.
type TemplateData struct {
	Namespace string
	Task      string
}

// NewSession opens a conversation; steps are the scripted replies (ignored
// when proxying), rendered with data.
func (m *ModelServer) NewSession(steps []ModelStep, data TemplateData) (*Session, error) {
	var rendered []ModelStep
	if m.Scripted() {
		var err error
		if rendered, err = renderSteps(steps, data); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	id := fmt.Sprintf("run%d", m.next)
	s := &Session{id: id, steps: rendered, BaseURL: m.base + "/s/" + id}
	if m.Scripted() {
		s.BaseURL += "/v1"
	}
	m.sessions[id] = s
	return s, nil
}

// Requests returns the bodies of the requests received so far.
func (s *Session) Requests() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.requests...)
}

// Problems are the ways the conversation left the script (the agent asked
// for more replies than were scripted, a request could not be read).
func (s *Session) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.problems...)
}

func (s *Session) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

func (m *ModelServer) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/s/")
	id, path, _ := strings.Cut(rest, "/")
	m.mu.Lock()
	s := m.sessions[id]
	m.mu.Unlock()
	if !ok || s == nil {
		http.Error(w, "unknown model session", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		s.problem("read request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, body)
	s.mu.Unlock()

	if !m.Scripted() {
		m.forward(w, r, "/"+path, body)
		return
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(path, "chat/completions") {
		http.Error(w, "the scripted model serves only POST /v1/chat/completions", http.StatusNotFound)
		return
	}
	var req openai.ChatCompletionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.problem("request is not a chat completion: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	msg, delay := s.reply(req)
	if delay > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(delay):
		}
	}
	finish := openai.FinishReasonStop
	if len(msg.ToolCalls) > 0 {
		finish = openai.FinishReasonToolCalls
	}
	completion, _ := json.Marshal(msg)
	resp := openai.ChatCompletionResponse{
		ID: "chatcmpl-" + s.id, Object: "chat.completion", Created: time.Now().Unix(), Model: req.Model,
		Choices: []openai.ChatCompletionChoice{{Index: 0, Message: msg, FinishReason: finish}},
		// Estimated as bytes/4, so figures compare between runs and tasks.
		Usage: openai.Usage{PromptTokens: len(body) / 4, CompletionTokens: len(completion) / 4},
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens + resp.Usage.CompletionTokens
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp) // the agent reports a broken reply
}

// reply is the scripted message for a request. The conversation so far
// says where it is: the n-th assistant message answers step n, so retries
// of one request get the same reply.
func (s *Session) reply(req openai.ChatCompletionRequest) (openai.ChatCompletionMessage, time.Duration) {
	n := 0
	for _, msg := range req.Messages {
		if msg.Role == openai.ChatMessageRoleAssistant {
			n++
		}
	}
	if n >= len(s.steps) {
		s.problem("the agent asked for model reply %d, but the script has %d", n+1, len(s.steps))
		return openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant,
			Content: "The scripted model has no more replies for this task."}, 0
	}
	step := s.steps[n]
	delay, _ := time.ParseDuration(step.Delay) // checked when the task was loaded
	if step.Answer != "" {
		return openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: step.Answer}, delay
	}
	msg := openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant}
	for i, c := range step.toolCalls() {
		args := string(c.Args)
		if args == "" {
			args = "{}"
		}
		msg.ToolCalls = append(msg.ToolCalls, openai.ToolCall{
			ID: fmt.Sprintf("call_%d_%d", n+1, i), Type: openai.ToolTypeFunction,
			Function: openai.FunctionCall{Name: c.Tool, Arguments: args},
		})
	}
	return msg, delay
}

// forward sends the recorded request on to the real endpoint.
func (m *ModelServer) forward(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Path, pr.Out.URL.RawPath = path, ""
			pr.SetURL(m.upstream)
			pr.Out.Body = io.NopCloser(bytes.NewReader(body))
			pr.Out.ContentLength = int64(len(body))
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "model endpoint: "+err.Error(), http.StatusBadGateway)
		},
	}
	proxy.ServeHTTP(w, r)
}

// renderSteps fills in {{.Namespace}} and the like in arguments and answers.
func renderSteps(steps []ModelStep, data TemplateData) ([]ModelStep, error) {
	out := make([]ModelStep, len(steps))
	for i, s := range steps {
		answer, err := render(s.Answer, data)
		if err != nil {
			return nil, fmt.Errorf("model step %d: answer: %w", i+1, err)
		}
		r := ModelStep{Answer: answer, Delay: s.Delay}
		for _, c := range s.toolCalls() {
			args, err := render(string(c.Args), data)
			if err != nil {
				return nil, fmt.Errorf("model step %d: %s args: %w", i+1, c.Tool, err)
			}
			if args != "" && !json.Valid([]byte(args)) {
				return nil, fmt.Errorf("model step %d: %s args are not valid JSON once rendered: %s", i+1, c.Tool, args)
			}
			r.Calls = append(r.Calls, ToolCall{Tool: c.Tool, Args: json.RawMessage(args)})
		}
		out[i] = r
	}
	return out, nil
}

func render(text string, data TemplateData) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	tmpl, err := template.New("step").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// ErrNoModel means neither a model endpoint nor --model-script was given.
var ErrNoModel = errors.New("no model: set OPENAI_API_KEY (and OPENAI_BASE_URL, OPSAGENT_MODEL) for a real endpoint, or use --model-script")

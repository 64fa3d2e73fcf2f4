// Package llmexplain adds a language model's explanation to the finding
// groups of a diagnosis (`opsagent diagnose --explain`): one request per
// group, a few at a time, each answer cached on disk by the hash of what was
// sent, so asking again about an unchanged problem costs nothing.
//
// What is sent is the group as the rules described it, after diagnose has
// redacted Secret values and tokens, redacted once more by internal/redact's
// structured pass; volatile numbers (restart and event counts, timestamps)
// are left out so that the cache key stays stable while a pod keeps
// crashing.
package llmexplain

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/llmclient"
	"github.com/opsagent/opsagent/internal/redact"
)

//go:embed prompt.md
var systemPrompt string

// promptVersion changes whenever the prompt or the payload's shape changes,
// so that old cache entries are not reused for a different question.
const promptVersion = "diagnose-explain/1"

// Defaults.
const (
	DefaultConcurrency = 4
	DefaultMaxGroups   = 20
	DefaultTimeout     = 90 * time.Second
	maxAnswerBytes     = 4 << 10
)

// Config configures an Explainer.
type Config struct {
	Client *openai.Client
	Model  string
	// CacheDir holds one file per answer; "" disables the cache.
	CacheDir string
	// Concurrency is how many requests run at once (default 4).
	Concurrency int
	// MaxGroups is how many groups, most severe first, are explained
	// (default 20); the rest keep their rule-based cause and fix only.
	MaxGroups int
	// Timeout bounds one request (default 90s).
	Timeout time.Duration
}

// Explainer explains finding groups with a model.
type Explainer struct{ cfg Config }

// New returns an Explainer.
func New(cfg Config) *Explainer {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.MaxGroups <= 0 {
		cfg.MaxGroups = DefaultMaxGroups
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Explainer{cfg: cfg}
}

// NewClient builds the go-openai client for the configured endpoint
// (OpenAI, a compatible server through OPENAI_BASE_URL, or Azure).
func NewClient(c config.Config) *openai.Client {
	return llmclient.New(c, DefaultTimeout)
}

// CacheDir is $XDG_CACHE_HOME/opsagent/explain (default
// ~/.cache/opsagent/explain), read through getenv.
func CacheDir(getenv func(string) string) string {
	dir := getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "opsagent", "explain")
}

// NoKeyNote is what a report says when --explain has no model to ask.
const NoKeyNote = "--explain: OPENAI_API_KEY is not set, so no model was asked; the cause and fix under each finding are opsagent's rule-based explanation."

// RulesOnly marks a report as explained by the rules alone (no API key).
func RulesOnly(r *diagnose.Report) {
	r.Explain = &diagnose.ExplainStatus{Source: "rules", Note: NoKeyNote}
}

// Explain sets the Explanation of the report's most severe groups. Failed
// requests are recorded per group; Explain itself only fails when ctx ends.
func (e *Explainer) Explain(ctx context.Context, r *diagnose.Report) error {
	r.Explain = &diagnose.ExplainStatus{Source: "llm", Model: e.cfg.Model}
	n := min(len(r.Groups), e.cfg.MaxGroups)
	if len(r.Groups) > n {
		r.Explain.Note = fmt.Sprintf("--explain: explained the %d most severe of %d groups", n, len(r.Groups))
	}
	sem := make(chan struct{}, e.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range n {
		g := &r.Groups[i]
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				g.Explanation = &diagnose.Explanation{Model: e.cfg.Model, Error: ctx.Err().Error()}
				return
			}
			defer func() { <-sem }()
			g.Explanation = e.explainGroup(ctx, g)
		})
	}
	wg.Wait()
	return ctx.Err()
}

func (e *Explainer) explainGroup(ctx context.Context, g *diagnose.Group) *diagnose.Explanation {
	payload, err := json.Marshal(promptOf(g))
	if err != nil {
		return &diagnose.Explanation{Model: e.cfg.Model, Error: err.Error()}
	}
	// A safety net: diagnose redacted the report with the cluster's Secret
	// values; this pass catches tokens and secret-looking keys again, field
	// by field, so the JSON stays valid whatever it finds.
	payload = redact.JSON(payload)
	key := cacheKey(e.cfg.Model, payload)
	if text, ok := e.readCache(key); ok {
		return &diagnose.Explanation{Model: e.cfg.Model, Text: text, Cached: true}
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	resp, err := e.cfg.Client.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model:       e.cfg.Model,
		Temperature: 0.2,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: systemPrompt},
			{Role: openai.ChatMessageRoleUser, Content: string(payload)},
		},
	})
	if err != nil {
		return &diagnose.Explanation{Model: e.cfg.Model, Error: describeError(err)}
	}
	if len(resp.Choices) == 0 || strings.TrimSpace(resp.Choices[0].Message.Content) == "" {
		return &diagnose.Explanation{Model: e.cfg.Model, Error: "the model returned no answer"}
	}
	text := redact.Text(strings.TrimSpace(resp.Choices[0].Message.Content))
	if cut := redact.Truncate(text, maxAnswerBytes); len(cut) < len(text) {
		text = cut + "…"
	}
	e.writeCache(key, text)
	return &diagnose.Explanation{Model: e.cfg.Model, Text: text}
}

func describeError(err error) string {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("model endpoint answered %d: %s", apiErr.HTTPStatusCode, apiErr.Message)
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return fmt.Sprintf("model endpoint answered %d", reqErr.HTTPStatusCode)
	}
	return redact.Text(err.Error())
}

// promptGroup is what the model is sent about one group.
type promptGroup struct {
	Object   string          `json:"object"`
	Severity string          `json:"severity"`
	Findings []promptFinding `json:"findings"`
}

type promptFinding struct {
	Rule     string   `json:"rule"`
	Severity string   `json:"severity"`
	Object   string   `json:"object"`
	Owners   []string `json:"owners,omitempty"`
	Status   []string `json:"status,omitempty"`
	Events   []string `json:"events,omitempty"`
	Log      []string `json:"log,omitempty"`
	Cause    string   `json:"cause"`
	Fixes    []string `json:"fixes,omitempty"`
	// Similar is how many other objects share the problem.
	Similar int `json:"similar,omitempty"`
}

// promptOf turns a group into the model's input: stable fields only (no
// counts, no timestamps).
func promptOf(g *diagnose.Group) promptGroup {
	p := promptGroup{Object: g.Object.String(), Severity: string(g.Severity)}
	for _, f := range g.Findings {
		pf := promptFinding{Rule: f.Rule, Severity: string(f.Severity), Object: f.Object.String(), Cause: f.Cause, Status: f.Evidence.Status}
		if len(f.Similar) > 0 {
			pf.Similar = 1 // "some": the exact number changes while pods come and go
		}
		for _, o := range f.Owners {
			pf.Owners = append(pf.Owners, o.String())
		}
		for _, ev := range f.Evidence.Events {
			pf.Events = append(pf.Events, fmt.Sprintf("%s %s: %s", ev.Type, ev.Reason, ev.Message))
		}
		if l := f.Evidence.Logs; l != nil {
			pf.Log = l.Lines
		}
		for _, fx := range f.Fixes {
			s := fx.Description
			if fx.Command != "" {
				s += ": " + fx.Command
			}
			pf.Fixes = append(pf.Fixes, s)
		}
		p.Findings = append(p.Findings, pf)
	}
	return p
}

func cacheKey(model string, payload []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(promptVersion), []byte(model), []byte(systemPrompt), payload} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

type cacheEntry struct {
	Model   string    `json:"model"`
	Text    string    `json:"text"`
	Created time.Time `json:"created"`
}

func (e *Explainer) readCache(key string) (string, bool) {
	if e.cfg.CacheDir == "" {
		return "", false
	}
	data, err := os.ReadFile(filepath.Join(e.cfg.CacheDir, key+".json"))
	if err != nil {
		return "", false
	}
	var c cacheEntry
	if json.Unmarshal(data, &c) != nil || c.Text == "" {
		return "", false
	}
	return c.Text, true
}

// writeCache stores an answer; a cache that cannot be written only costs a
// request next time.
func (e *Explainer) writeCache(key, text string) {
	if e.cfg.CacheDir == "" {
		return
	}
	if err := os.MkdirAll(e.cfg.CacheDir, 0o700); err != nil {
		return
	}
	data, err := json.Marshal(cacheEntry{Model: e.cfg.Model, Text: text, Created: time.Now().UTC()})
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(e.cfg.CacheDir, key+".*.tmp")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		_ = os.Remove(tmp.Name())
		return
	}
	_ = os.Rename(tmp.Name(), filepath.Join(e.cfg.CacheDir, key+".json"))
}

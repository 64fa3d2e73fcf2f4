package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/opsagent/opsagent/internal/agent"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/tools"
)

// secretLoadTimeout bounds one LIST of a namespace's Secrets for redaction.
const secretLoadTimeout = 15 * time.Second

// outputRedactor removes secrets from everything one request sends its
// caller — action records, previews, the run, the answer, errors — as the
// agent does for what it sends a model: the values of the Secrets of the
// request's namespace and of every namespace a tool call names, the model's
// API key, and the patterns and key-name rules. Secrets are read with the
// caller's own token, so a caller who may not read a namespace's Secrets
// gets patterns and key names only there (and is logged).
type outputRedactor struct {
	red       *redact.Redactor
	namespace string
	// ctx is the server's run context: shutdown cancels a load in progress.
	ctx context.Context
}

func newOutputRedactor(ctx context.Context, c *kube.Clients, namespace, apiKey string, log *slog.Logger) *outputRedactor {
	red := redact.New(c.Typed, log)
	red.AddValues(apiKey)
	return &outputRedactor{red: red, namespace: namespace, ctx: ctx}
}

// load reads the Secrets of the request's namespace and of those args name,
// each once per request.
func (o *outputRedactor) load(args json.RawMessage) {
	for _, ns := range append([]string{o.namespace}, agent.NamespacesIn(args)...) {
		ctx, cancel := context.WithTimeout(o.ctx, secretLoadTimeout)
		_ = o.red.LoadNamespace(ctx, ns) // logged inside; patterns still apply
		cancel()
	}
}

func (o *outputRedactor) text(s string) string {
	o.load(nil)
	return o.red.Redact(s)
}

// record is rec as the caller sees it: arguments are masked by the gate
// already; the preview, result and error come from the cluster.
func (o *outputRedactor) record(rec *tools.Record) tools.Record {
	o.load(rec.Args)
	c := *rec
	if c.Preview != nil {
		p := o.preview(*c.Preview)
		c.Preview = &p
	}
	if c.Result != nil {
		if b, err := json.Marshal(c.Result); err == nil {
			c.Result = json.RawMessage(o.red.RedactJSON(b))
		} else {
			c.Result = nil // what cannot be redacted is not shown
		}
	}
	c.Error = o.red.Redact(c.Error)
	return c
}

// preview is a change's preview as the approver sees it (a manifest diff
// may show an env value).
func (o *outputRedactor) preview(p tools.Preview) tools.Preview {
	o.load(nil)
	p.Summary, p.Diff = o.red.Redact(p.Summary), o.red.Redact(p.Diff)
	return p
}

// run is run as `opsagent -o json` prints it, redacted like records.
func (o *outputRedactor) run(run *agent.Run) json.RawMessage {
	c := *run
	c.Actions = make([]*tools.Record, len(run.Actions))
	for i, rec := range run.Actions {
		r := o.record(rec)
		c.Actions[i] = &r
	}
	c.Answer, c.Error = o.text(c.Answer), o.text(c.Error)
	b, err := json.Marshal(&c)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": "could not encode the run: " + err.Error()})
	}
	return b
}

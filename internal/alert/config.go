package alert

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Format is the kind of body a receiver gets.
type Format string

// Receiver formats.
const (
	// FormatJSON: the versioned Payload document (docs/watch-alerts.md).
	FormatJSON Format = "json"
	// FormatSlack: a Slack incoming-webhook message, {"text": "..."}.
	FormatSlack Format = "slack"
)

// Defaults of ReceiverConfig, applied to fields left zero.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultMaxAttempts    = 8
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = time.Minute
	DefaultQueueSize      = 256
)

// ReceiverConfig is one webhook to deliver notifications to.
type ReceiverConfig struct {
	// Name is for logs and metrics ("webhook-1"); default "<format>-<n>",
	// n counting from 1 in the list given to NewDispatcher. Names must be
	// unique.
	Name string
	// URL is the http or https endpoint notifications are POSTed to. It is
	// never logged: Slack webhook URLs hold their secret in the path.
	URL string
	// Format is FormatJSON (default) or FormatSlack.
	Format Format
	// Timeout per HTTP attempt (default 10s).
	Timeout time.Duration
	// MaxAttempts per notification, the first included (default 8).
	MaxAttempts int
	// Backoff between attempts starts at InitialBackoff (default 1s) and
	// doubles up to MaxBackoff (default 1m), with jitter; a Retry-After
	// answer replaces it, capped at MaxBackoff.
	InitialBackoff, MaxBackoff time.Duration
	// QueueSize bounds the notifications waiting for this receiver (default
	// 256); when full, the oldest is dropped.
	QueueSize int
	// Header holds extra request headers (e.g. Authorization), optional.
	// Content-Type and User-Agent are always ours.
	Header http.Header
}

// withDefaults validates c and fills in its defaults; i is its position,
// for the default name.
func (c ReceiverConfig) withDefaults(i int) (ReceiverConfig, error) {
	if c.Format == "" {
		c.Format = FormatJSON
	}
	if c.Name == "" {
		c.Name = fmt.Sprintf("%s-%d", c.Format, i+1)
		if c.Format == FormatJSON {
			c.Name = fmt.Sprintf("webhook-%d", i+1)
		}
	}
	if c.Format != FormatJSON && c.Format != FormatSlack {
		return c, fmt.Errorf("alert receiver %s: format %q is not known: use %q or %q", c.Name, c.Format, FormatJSON, FormatSlack)
	}
	if err := CheckURL(c.URL); err != nil {
		return c, fmt.Errorf("alert receiver %s: %w", c.Name, err)
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 || c.InitialBackoff < 0 || c.MaxBackoff < 0 || c.QueueSize < 0 {
		return c, fmt.Errorf("alert receiver %s: timeout, attempts, backoffs and queue size must not be negative (0 takes the default)", c.Name)
	}
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, DefaultMaxAttempts)
	c.InitialBackoff = cmp.Or(c.InitialBackoff, DefaultInitialBackoff)
	c.MaxBackoff = max(cmp.Or(c.MaxBackoff, DefaultMaxBackoff), c.InitialBackoff)
	c.QueueSize = cmp.Or(c.QueueSize, DefaultQueueSize)
	c.Header = c.Header.Clone()
	return c, nil
}

// CheckURL accepts absolute http and https URLs, as NewDispatcher does;
// commands call it to check a flag before anything starts. Its errors show
// the scheme and host of the value but never its user information, path or
// query, which may be the secret
// (https://hooks.slack.com/services/T…/B…/secret).
func CheckURL(raw string) error {
	if raw == "" {
		return errors.New("no URL given: give the webhook's http:// or https:// URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		reason := err
		if ue, ok := errors.AsType[*url.Error](err); ok {
			reason = ue.Err // url.Error repeats the whole value
		}
		return fmt.Errorf("webhook URL is not valid (%v): give a full http:// or https:// URL", reason)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("webhook URL %q is not http or https: give a full http:// or https:// URL", shownURL(raw))
	}
	if u.Host == "" {
		return fmt.Errorf("webhook URL %q has no host: give a full URL such as https://alerts.example.com/hook", shownURL(raw))
	}
	return nil
}

// shownURL is raw for error messages: scheme and host only, user
// information, path, query and fragment elided.
func shownURL(raw string) string {
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		prefix, rest = raw[:i+3], raw[i+3:]
	}
	elided := ""
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest, elided = rest[:j], "/…"
	}
	if k := strings.LastIndex(rest, "@"); k >= 0 {
		rest = "…@" + rest[k+1:]
	}
	return prefix + rest + elided
}

package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/termsafe"
	"github.com/opsagent/opsagent/internal/version"
)

// maxErrorBody is how much of a refusing receiver's answer goes into the log.
const maxErrorBody = 256

// attemptResult is how one HTTP attempt went.
type attemptResult struct {
	ok    bool
	retry bool
	// retryAfter is the receiver's Retry-After, zero if none.
	retryAfter time.Duration
	// problem says what went wrong, for the log; never the URL.
	problem string
}

// deliver sends n, retrying with backoff, until it is accepted, refused,
// out of attempts or ctx ends.
func (r *receiver) deliver(ctx context.Context, n Notification) {
	body, err := r.encode(n)
	if err != nil { // typed payloads always encode; kept so a future field cannot fail silently
		r.m.failed.Inc()
		r.log.Error("alert not sent: encode payload", "group", n.Group.String(), "err", err)
		return
	}
	log := r.log.With("group", n.Group.String(), "status", n.Status, "fingerprint", n.Fingerprint)
	for attempt := 1; ; attempt++ {
		r.m.attempts.Inc()
		res := r.attempt(ctx, body)
		if res.ok {
			r.m.sent(n.Status).Inc()
			log.Debug("alert sent", "attempts", attempt)
			return
		}
		if ctx.Err() != nil {
			r.giveUp(log, "alert abandoned at shutdown", attempt, res, true)
			return
		}
		if !res.retry {
			r.giveUp(log, "alert refused by the receiver, not retried: check the receiver's URL, token and format", attempt, res, false)
			return
		}
		if attempt >= r.cfg.MaxAttempts {
			r.giveUp(log, "alert not delivered: out of attempts", attempt, res, false)
			return
		}
		wait := r.backoff(attempt, res.retryAfter)
		log.Debug("alert delivery failed, retrying", "attempt", attempt, "problem", res.problem, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			r.giveUp(log, "alert abandoned at shutdown", attempt, res, true)
			return
		}
	}
}

func (r *receiver) giveUp(log *slog.Logger, msg string, attempts int, res attemptResult, abandoned bool) {
	r.m.failed.Inc()
	if abandoned {
		r.abandoned.Add(1)
	}
	log.Warn(msg, "attempts", attempts, "problem", res.problem)
}

// encode renders n in the receiver's format.
func (r *receiver) encode(n Notification) ([]byte, error) {
	if r.cfg.Format == FormatSlack {
		return json.Marshal(newSlackMessage(n))
	}
	return json.Marshal(NewPayload(n))
}

// attempt makes one POST, bounded by the receiver's Timeout.
func (r *receiver) attempt(ctx context.Context, body []byte) attemptResult {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.cfg.URL, bytes.NewReader(body))
	if err != nil { // the URL was validated; a failure here is not worth retrying
		return attemptResult{problem: "build request: " + urlFree(err)}
	}
	for k, vs := range r.cfg.Header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "opsagent/"+version.Version)

	resp, err := r.client.Do(req)
	if err != nil {
		problem := urlFree(err)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			problem = fmt.Sprintf("no answer within %s", r.cfg.Timeout)
		}
		return attemptResult{retry: true, problem: problem}
	}
	defer func() {
		// Read a bounded rest so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return attemptResult{ok: true}
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	res := attemptResult{problem: fmt.Sprintf("answered %s", resp.Status)}
	if text := strings.TrimSpace(termsafe.Line(redact.Truncate(string(head), maxErrorBody))); text != "" {
		res.problem += ": " + text
	}
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		res.retry = true
		res.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case code >= 300 && code < 400:
		res.problem += " (a redirect: configure the URL it redirects to)"
	}
	return res
}

// backoff is the wait after the attempt-th failed attempt: the receiver's
// Retry-After when it gave one, else InitialBackoff doubled per attempt; both
// capped at MaxBackoff. The doubled wait is jittered into [d/2, d] so
// watchers that failed together do not retry together.
func (r *receiver) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, r.cfg.MaxBackoff)
	}
	d := r.cfg.InitialBackoff
	for i := 1; i < attempt && d < r.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
// Zero means none (or unreadable, or already past).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		const maxSecs = 1 << 30 // beyond any MaxBackoff; keeps the product from overflowing
		return time.Duration(min(max(secs, 0), maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// urlFree is err's message without the request URL, which *url.Error
// repeats and which may hold a secret (Slack's webhook token).
func urlFree(err error) string {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

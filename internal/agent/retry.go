package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Retry bounds the retries of a model call that failed with 429, a 5xx
// status or a network error. Other errors (401, 400, ...) are not retried.
type Retry struct {
	// Attempts is the total number of tries (default 4).
	Attempts int
	// BaseDelay is the wait before the first retry (default 500ms); each
	// retry doubles it, up to MaxDelay (default 8s).
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 500 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 8 * time.Second
	}
	return r
}

// complete calls the model, retrying transient failures with exponential
// backoff. A final failure is a *modelError.
func (a *Agent) complete(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	a.cfg.Progress.Start("asking the model …")
	defer a.cfg.Progress.Stop()
	delay := a.cfg.Retry.BaseDelay
	for attempt := 1; ; attempt++ {
		resp, err := a.cfg.Model.CreateChatCompletion(ctx, req)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return resp, ctx.Err()
		}
		if !retryable(err) {
			return resp, &modelError{err}
		}
		if attempt >= a.cfg.Retry.Attempts {
			return resp, &modelError{fmt.Errorf("%w (gave up after %d attempts)", err, attempt)}
		}
		a.log.Warn("model call failed; retrying", "attempt", attempt, "in", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, a.cfg.Retry.MaxDelay)
	}
}

// retryable reports whether a model call may succeed if tried again.
func retryable(err error) bool {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatusCode != 0 {
		return retryableStatus(apiErr.HTTPStatusCode)
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) && reqErr.HTTPStatusCode != 0 {
		return retryableStatus(reqErr.HTTPStatusCode)
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500
}

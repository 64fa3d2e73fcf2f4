package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/identity"
	"github.com/opsagent/opsagent/internal/tools"
)

// contentSecurityPolicy allows the page its own script, style and API and
// nothing else: no inline script, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// protect wraps every route: security headers, CORS closed, the CSRF
// checks for state-changing requests, the body cap, and the request
// metrics.
func (s *Server) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		switch err := checkOrigin(r); {
		case r.Method == http.MethodOptions:
			// CORS is closed: no preflight is ever granted, so a browser
			// never sends another origin's request with our token.
			writeError(rec, http.StatusForbidden, "cross-origin requests are not allowed")
		case err != nil:
			writeError(rec, http.StatusForbidden, err.Error())
		default:
			r.Body = http.MaxBytesReader(rec, r.Body, maxBodyBytes)
			next.ServeHTTP(rec, r)
		}
		s.metrics.observeHTTP(r.Pattern, r.Method, rec.status, time.Since(start))
	})
}

// checkOrigin is the CSRF defence for requests that change something. The
// page sends its token in the Authorization header, which a browser never
// adds on its own, so a forged request lacks it; on top of that, a browser's
// cross-site request is refused by its Sec-Fetch-Site or Origin header, and
// a body must be JSON, which no HTML form can send without a preflight.
func checkOrigin(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fmt.Errorf("cross-site request refused (Sec-Fetch-Site: %s)", site)
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != "http://"+r.Host && origin != "https://"+r.Host {
		return fmt.Errorf("cross-origin request refused (Origin %s is not this server)", origin)
	}
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return errors.New("the request body must be JSON (Content-Type: application/json)")
		}
	}
	return nil
}

// callerHandler is an API handler that knows who is calling.
type callerHandler func(w http.ResponseWriter, r *http.Request, c *caller)

// api authenticates the caller and holds one of its concurrency slots for
// the duration of the call.
func (s *Server) api(h callerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		c, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		if !s.limits.acquire(c.User) {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many concurrent requests from %s (at most %d at once); wait for some to finish", c.User, s.limits.max))
			return
		}
		defer s.limits.release(c.User)
		h(w, r, c)
	})
}

// stream authenticates like api, without holding a slot: an event stream
// lasts as long as its request.
func (s *Server) stream(h callerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if c, ok := s.authenticate(w, r); ok {
			h(w, r, c)
		}
	})
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*caller, bool) {
	c, err := s.auth.Request(r)
	switch {
	case errors.Is(err, identity.ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="opsagent"`)
		writeError(w, http.StatusUnauthorized, err.Error())
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadGateway, err.Error())
		return nil, false
	}
	return c, true
}

// callerLimits counts each caller's API calls in progress.
type callerLimits struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func newCallerLimits(max int) *callerLimits { return &callerLimits{max: max, n: map[string]int{}} }

func (l *callerLimits) acquire(user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[user] >= l.max {
		return false
	}
	l.n[user]++
	return true
}

func (l *callerLimits) release(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[user]--; l.n[user] <= 0 {
		delete(l.n, user)
	}
}

// statusRecorder remembers the status for the metrics; Unwrap lets
// http.ResponseController reach Flush for event streams.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// apiErrorBody is every error response: one sentence saying what failed,
// why and what to do.
type apiErrorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiErrorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"could not encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n')) // the client went away
}

// statusOf maps an error from the cluster or a tool to an HTTP status: the
// API server's own answer where there is one, 400 for bad input.
func statusOf(err error) int {
	var status apierrors.APIStatus
	switch {
	case apierrors.IsForbidden(err):
		return http.StatusForbidden
	case apierrors.IsUnauthorized(err):
		return http.StatusUnauthorized
	case errors.Is(err, diagnose.ErrInvalidOptions), tools.IsBadInput(err):
		return http.StatusBadRequest
	case errors.As(err, &status) && status.Status().Code >= 400:
		return int(status.Status().Code)
	}
	return http.StatusBadGateway
}

// decodeBody reads a JSON body strictly: an unknown field is a typo the
// caller should hear about, not an option silently ignored.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("the request body is larger than %d bytes", tooBig.Limit)
		}
		return fmt.Errorf("the request body is not valid JSON for this endpoint: %w", err)
	}
	if dec.More() {
		return errors.New("the request body holds more than one JSON value")
	}
	return nil
}

// Package mcptest connects the official MCP Go SDK client to a Streamable
// HTTP endpoint with a bearer token, as an MCP client configured with an
// Authorization header does: what the tests of every surface serving MCP
// over HTTP (`opsagent mcp --http`, `opsagent serve`'s /mcp) drive.
package mcptest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ClientName is the name the client gives in initialize (and the audit
// log records).
const ClientName = "opsagent-test-client"

// bearer adds a token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// Connect connects to url with token (opts decides the client's
// capabilities, e.g. an elicitation handler); the session is closed when
// the test ends. It does not retry: a refused connection is the error.
func Connect(t testing.TB, url, token string, opts *mcp.ClientOptions) (*mcp.ClientSession, error) {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: ClientName, Version: "1"}, opts)
	transport := &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearer{token, http.DefaultTransport}}, MaxRetries: -1}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, transport, nil)
	if err == nil {
		t.Cleanup(func() { _ = cs.Close() })
	}
	return cs, err
}

// initialize is an MCP initialize request, as a client's first POST.
const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`

// RequireToken checks that url answers 401 before any MCP processing to a
// request with no token, a token the API server rejects, or a header that
// is not "Bearer", and that the SDK client cannot connect with a rejected
// token.
func RequireToken(t *testing.T, url string) {
	t.Helper()
	for name, header := range map[string]string{"none": "", "rejected": "Bearer not-a-kubernetes-token", "not bearer": "Basic dXNlcjpwYXNz"} {
		set := func(r *http.Request) {
			r.Header.Set("Accept", "application/json, text/event-stream")
			if header != "" {
				r.Header.Set("Authorization", header)
			}
		}
		if code := post(t, url, initialize, set); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, code)
		}
	}
	if _, err := Connect(t, url, "not-a-kubernetes-token", nil); err == nil {
		t.Error("the SDK client connected with a token the API server rejects")
	}
}

// KeepsBrowsersOut checks that url refuses (403), even with a good token,
// a request whose Host is not the loopback address it was sent to (DNS
// rebinding) and one a browser sends from another site.
func KeepsBrowsersOut(t *testing.T, url, token string) {
	t.Helper()
	for name, set := range map[string]func(*http.Request){
		"rebound Host": func(r *http.Request) { r.Host = "evil.example.com" },
		"foreign Origin": func(r *http.Request) {
			r.Header.Set("Origin", "http://evil.example.com")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		},
	} {
		withToken := func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token)
			set(r)
		}
		if code := post(t, url, `{}`, withToken); code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, code)
		}
	}
}

// post sends body as JSON to url, after set adjusts the request, and
// returns the status.
func post(t *testing.T, url, body string, set func(*http.Request)) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	set(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// CountTools lists the session's tools (all pages) and returns how many.
func CountTools(t testing.TB, cs *mcp.ClientSession) int {
	t.Helper()
	n := 0
	for _, err := range cs.Tools(t.Context(), nil) {
		if err != nil {
			t.Fatalf("list tools: %v", err)
		}
		n++
	}
	return n
}

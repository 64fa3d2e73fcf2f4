package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/opsagent/opsagent/internal/mcpserver"
	"github.com/opsagent/opsagent/internal/server"
)

// offlineServer is a server whose API server does not exist: enough for
// everything decided before a token is checked.
func offlineServer(t *testing.T) string {
	t.Helper()
	_, url := startServer(t, server.Config{Base: &rest.Config{Host: "http://127.0.0.1:1"}})
	return url
}

func send(t *testing.T, method, url string, header map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// CORS is closed and a browser's cross-site write is refused before the
// token is even looked at.
func TestProtectRefusesCrossSiteRequests(t *testing.T) {
	t.Parallel()
	url := offlineServer(t) + "/api/v1/requests"
	json := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer x"}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range json {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		want   string
	}{
		{"preflight", http.MethodOptions, map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, "cross-origin"},
		{"other origin", http.MethodPost, with(map[string]string{"Origin": "https://evil.example"}), "cross-origin"},
		{"cross-site fetch", http.MethodPost, with(map[string]string{"Sec-Fetch-Site": "cross-site"}), "cross-site"},
		{"form post", http.MethodPost, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer x"}, "JSON"},
	} {
		resp, body := send(t, tc.method, url, tc.header, `{"text":"scale web to 2"}`)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want 403 mentioning %q", tc.name, resp.StatusCode, body, tc.want)
		}
		if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s: Access-Control-Allow-Origin %q: CORS must stay closed", tc.name, v)
		}
	}
}

// The page and the operational endpoints need no token and carry the
// security headers; the page's assets are all local.
func TestPageAndOperationalEndpoints(t *testing.T) {
	t.Parallel()
	base := offlineServer(t)
	for _, path := range []string{"/", "/app.js", "/app.css", "/openapi.yaml", "/healthz", "/metrics"} {
		resp, body := send(t, http.MethodGet, base+path, nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
			continue
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: missing security headers (CSP %q)", path, csp)
		}
		if path == "/" || path == "/app.js" || path == "/app.css" {
			for _, external := range []string{"http://", "https://", "//cdn"} {
				if strings.Contains(strings.ReplaceAll(body, "http://www.w3.org", ""), external) {
					t.Errorf("%s refers to %q: the page must load nothing from elsewhere", path, external)
				}
			}
		}
	}
	if resp, _ := send(t, http.MethodGet, base+"/readyz", nil, ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz with an unreachable API server: %d, want 503", resp.StatusCode)
	}
	_, metrics := send(t, http.MethodGet, base+"/metrics", nil, "")
	for _, name := range []string{"opsagent_http_requests_total", "go_goroutines"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// Every path and method openapi.yaml documents is served, and the API's
// paths and /mcp all ask for a token.
func TestOpenAPIDocumentsTheServedRoutes(t *testing.T) {
	t.Parallel()
	base := offlineServer(t)
	_, raw := send(t, http.MethodGet, base+"/openapi.yaml", nil, "")
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if len(doc.Paths) < 10 {
		t.Fatalf("openapi.yaml documents %d paths", len(doc.Paths))
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			url := base + strings.NewReplacer("{id}", "abc", "{approval}", "def").Replace(path)
			resp, body := send(t, strings.ToUpper(method), url, map[string]string{"Content-Type": "application/json"}, "")
			if (strings.HasPrefix(path, "/api/") || path == mcpserver.Path) && resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s without a token: %d %s, want 401", method, path, resp.StatusCode, body)
			}
			if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
				t.Errorf("%s %s is documented but not served: %d", method, path, resp.StatusCode)
			}
		}
	}
}

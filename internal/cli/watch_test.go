package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/watch"
)

func TestWatchBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"short interval", []string{"--interval", "100ms"}, "--interval"},
		{"bad webhook scheme", []string{"--alert-webhook", "ftp://alerts.example/hook"}, "webhook-1"},
		{"bad slack url", []string{"--slack-webhook", "not a url"}, "slack-1"},
		{"bad metrics address", []string{"--metrics-addr", "9090"}, "--metrics-addr"},
		{"bad output", []string{"-o", "yaml"}, "output"},
		{"bad kind", []string{"--kind", "Gizmo"}, "--kind"},
		{"sampling too often", []string{"--sample-interval", "1s"}, "--sample-interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No kubeconfig: bad input is found before any client is built.
			r := runCLI(t, "", append([]string{"watch", "--kubeconfig", "/nonexistent"}, tc.args...)...)
			if r.code != ExitBadInput || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d naming %s", r.code, r.stderr, ExitBadInput, tc.want)
			}
		})
	}
}

// TestWatchCommand runs `opsagent watch -o json --metrics-addr` on the
// sandbox: JSON lines on stdout starting with a synced event, the metrics
// and readiness endpoints, and exit 0 when interrupted.
func TestWatchCommand(t *testing.T) {
	env := testcluster.New(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir()) // the usage history
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()

	var out, errOut syncBuffer
	cmd := NewRootCmd(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs([]string{"watch", "--kubeconfig", env.Kubeconfig, "-n", env.Namespace, "-o", "json", "--metrics-addr", addr})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- exitCode(cmd.ExecuteContext(ctx), &errOut) }()
	defer cancel()

	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), `"type":"synced"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no synced event within a minute; stdout %q, stderr %q", out.String(), errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after sync = %d", code)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{"opsagent_watch_synced 1", `opsagent_watch_api_requests_total{verb="watch"}`, "go_goroutines"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	cancel() // what the first Ctrl-C does
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d after interrupt, want 0; stderr %q", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("watch did not stop within 15s of the interrupt")
	}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	first := true
	for sc.Scan() {
		var e watch.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("stdout line is not a WatchEvent: %v: %s", err, sc.Text())
		}
		if e.APIVersion != watch.APIVersion || e.Kind != watch.KindEvent {
			t.Errorf("line %s: apiVersion/kind %s/%s", sc.Text(), e.APIVersion, e.Kind)
		}
		if first && e.Type != watch.EventSynced {
			t.Errorf("first line is %s, want synced", e.Type)
		}
		first = false
	}
}

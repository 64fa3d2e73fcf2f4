package watch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/alert"
	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/usage"
)

// simState is the sandbox's failure simulation label (docs/sandbox.md).
const simState = "sim.opsagent.dev/state"

// receiver is a local webhook receiver that records what it gets.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	alerts []alert.Payload
	bodies []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var p alert.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("receiver: not an alert: %v: %s", err, body)
		}
		r.mu.Lock()
		r.alerts = append(r.alerts, p)
		r.bodies = append(r.bodies, string(body))
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []alert.Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]alert.Payload(nil), r.alerts...)
}

// running is a watcher started in the background, its events on a channel.
type running struct {
	events chan Event
	all    []Event
	mu     sync.Mutex
	done   chan error
	cancel context.CancelFunc
}

func startWatch(t *testing.T, cfg *rest.Config, o Options) *running {
	t.Helper()
	w, err := New(cfg, "test", o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{events: make(chan Event, 1000), done: make(chan error, 1), cancel: cancel}
	go func() {
		r.done <- w.Run(ctx, func(e Event) error {
			r.mu.Lock()
			r.all = append(r.all, e)
			r.mu.Unlock()
			r.events <- e
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return within 10s of its context ending")
		}
	})
	r.wait(t, time.Minute, func(e Event) bool { return e.Type == EventSynced })
	return r
}

// wait returns the first event that matches, failing after timeout.
func (r *running) wait(t *testing.T, timeout time.Duration, match func(Event) bool) Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e := <-r.events:
			if e.Type == EventError {
				t.Logf("watch error event: %s", e.Message)
			}
			if match(e) {
				return e
			}
		case err := <-r.done:
			t.Fatalf("watch stopped: %v", err)
		case <-deadline:
			t.Fatalf("no matching watch event within %s", timeout)
		}
	}
}

func isFinding(typ EventType, rule, groupName string) func(Event) bool {
	return func(e Event) bool {
		return e.Type == typ && e.Finding != nil && e.Finding.Rule == rule && e.Group != nil && e.Group.Name == groupName
	}
}

// setSimState sets (or with "" removes) the failure simulation label on a
// Deployment's pod template: a rollout replaces its pods with failing (or
// healthy) ones.
func setSimState(t *testing.T, env *testcluster.Env, name, state string) {
	t.Helper()
	patch := `{"spec":{"template":{"metadata":{"labels":{"` + simState + `":null}}}}}`
	if state != "" {
		patch = `{"spec":{"template":{"metadata":{"labels":{"` + simState + `":"` + state + `"}}}}}`
	}
	if _, err := env.Client.AppsV1().Deployments(env.Namespace).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("patch %s: %v", name, err)
	}
}

// waitPodWaiting returns when a pod of the namespace shows reason as its
// container's waiting state: when the failure became visible in the API.
func waitPodWaiting(t *testing.T, env *testcluster.Env, reason string) time.Time {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		pods, err := env.Client.CoreV1().Pods(env.Namespace).List(context.Background(), metav1.ListOptions{})
		if err == nil {
			for _, p := range pods.Items {
				for _, cs := range p.Status.ContainerStatuses {
					if cs.State.Waiting != nil && cs.State.Waiting.Reason == reason {
						return time.Now()
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no pod waiting with %s within a minute", reason)
	return time.Time{}
}

// TestWatchReportsAlertsAndResolves is issue 10's acceptance test: a pod
// made to fail is reported within 5 seconds, the webhook receiver gets
// exactly one alert and one resolved notice, a dead receiver does not stop
// the watcher, no LIST is made once synced, and usage is sampled into the
// history.
func TestWatchReportsAlertsAndResolves(t *testing.T) {
	env := testcluster.New(t)
	env.Deployment(t, "web", 1, func(d *appsv1.Deployment) {
		d.Spec.Template.Annotations = map[string]string{"opsagent.dev/sim-cpu": "120m", "opsagent.dev/sim-memory": "64Mi"}
	})
	rcv := newReceiver(t)
	disp, err := alert.NewDispatcher([]alert.ReceiverConfig{{Name: "test", URL: rcv.srv.URL, Format: alert.FormatJSON,
		InitialBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Timeout: time.Second}}, slog.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = disp.Close(context.Background()) })
	history := filepath.Join(t.TempDir(), "history.json")
	m := NewMetrics(nil)
	w := startWatch(t, env.RESTConfig, Options{
		Diagnose: diagnose.Options{Namespace: env.Namespace, NamespaceExplicit: true},
		Interval: 5 * time.Second, Alerts: disp, Metrics: m,
		Sample: &SampleOptions{Interval: 2 * time.Second, HistoryPath: history},
	})
	listsAtSync := testutil.ToFloat64(m.APIRequests.WithLabelValues("list"))

	// A healthy namespace: nothing opens.
	time.Sleep(time.Second)
	w.mu.Lock()
	for _, e := range w.all {
		if e.Type == EventNew {
			t.Errorf("healthy namespace reported %s %s", e.Finding.Rule, e.Finding.Object)
		}
	}
	w.mu.Unlock()

	setSimState(t, env, "web", "CrashLoopBackOff")
	visible := waitPodWaiting(t, env, "CrashLoopBackOff")
	e := w.wait(t, 30*time.Second, isFinding(EventNew, "PodCrashLoopBackOff", "web"))
	if lag := time.Since(visible); lag > 5*time.Second {
		t.Errorf("crash loop reported %s after it showed in the API; want within 5s", lag.Round(time.Millisecond))
	} else {
		t.Logf("crash loop reported %s after it showed in the API", lag.Round(time.Millisecond))
	}
	if e.Initial || e.Group.Kind != "Deployment" {
		t.Errorf("new finding: initial=%v group=%v, want a non-initial finding under the Deployment", e.Initial, e.Group)
	}
	if got := testutil.ToFloat64(m.OpenFindings.WithLabelValues(string(diagnose.Critical), "PodCrashLoopBackOff")); got < 1 {
		t.Errorf("open findings gauge for PodCrashLoopBackOff = %v, want >= 1", got)
	}
	waitAlerts(t, rcv, 1)
	// More restarts and re-diagnoses of the same problem: still one alert.
	time.Sleep(8 * time.Second)
	if got := rcv.got(); len(got) != 1 || got[0].Status != alert.Firing || got[0].Group.Name != "web" {
		t.Fatalf("receiver got %d alerts, want exactly one firing for web: %+v", len(got), got)
	}

	setSimState(t, env, "web", "")
	w.wait(t, time.Minute, isFinding(EventResolved, "PodCrashLoopBackOff", "web"))
	waitAlerts(t, rcv, 2)
	time.Sleep(2 * time.Second)
	got := rcv.got()
	if len(got) != 2 || got[1].Status != alert.Resolved || got[1].Group.Name != "web" {
		t.Fatalf("receiver got %+v, want one firing then one resolved for web", got)
	}

	// A dead receiver: the watcher goes on reporting.
	rcv.srv.Close()
	env.Deployment(t, "api", 1)
	setSimState(t, env, "api", "ImagePullBackOff")
	w.wait(t, time.Minute, func(e Event) bool { return e.Type == EventNew && e.Group != nil && e.Group.Name == "api" })

	// Usage samples read pod metrics with one LIST of metrics.k8s.io each:
	// those are the only LISTs a synced watcher makes.
	if lists, samplings := testutil.ToFloat64(m.APIRequests.WithLabelValues("list"))-listsAtSync, testutil.ToFloat64(m.Samplings); lists > samplings {
		t.Errorf("%v LIST requests after sync, %v of them usage samplings: a synced watcher lists nothing else", lists, samplings)
	}
	if watches := testutil.ToFloat64(m.APIRequests.WithLabelValues("watch")); watches == 0 {
		t.Error("no watch requests counted")
	}

	h := waitHistory(t, history, usage.SeriesKey{Namespace: env.Namespace, Kind: "Deployment", Name: "web", Container: "app"})
	t.Logf("history: %d samples of web/app", h)
}

func waitAlerts(t *testing.T, r *receiver, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(r.got()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %d alerts within 30s, want %d: %+v", len(r.got()), n, r.got())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitHistory waits until the history file holds samples of key.
func waitHistory(t *testing.T, path string, key usage.SeriesKey) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		h, err := usage.LoadHistory(path)
		if err == nil {
			for _, s := range h.Series {
				if s.SeriesKey == key {
					n := 0
					for _, d := range s.Days {
						n += d.Samples
					}
					return n
				}
			}
		}
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(path)
			t.Fatalf("no samples of %+v in the history within a minute (err %v): %.500s", key, err, data)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestWatchWithoutRightsToEveryKind runs as an identity that may read only
// pods and events of one namespace: what it may not watch is reported once
// in the synced event, and pods are still diagnosed.
func TestWatchWithoutRightsToEveryKind(t *testing.T) {
	env := testcluster.New(t)
	token := env.CallerToken(t, "pod-reader",
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods", "events"}, Verbs: []string{"get", "list", "watch"}})
	cfg := rest.AnonymousClientConfig(env.RESTConfig)
	cfg.BearerToken = token
	w := startWatch(t, cfg, Options{Diagnose: diagnose.Options{Namespace: env.Namespace, NamespaceExplicit: true}})
	w.mu.Lock()
	synced := w.all[0]
	w.mu.Unlock()
	var refused []string
	for _, ce := range synced.Sync.Errors {
		refused = append(refused, ce.Resource)
	}
	for _, want := range []string{"deployments", "secrets", "services"} {
		if !strings.Contains(strings.Join(refused, ","), want) {
			t.Errorf("synced event does not say %s cannot be watched: %v", want, refused)
		}
	}
	if strings.Contains(strings.Join(refused, ","), "pods") {
		t.Errorf("pods reported as refused: %v", refused)
	}

	_, err := env.Client.CoreV1().Pods(env.Namespace).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "broken", Labels: map[string]string{simState: "ImagePullBackOff"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/missing:1"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.wait(t, time.Minute, func(e Event) bool {
		return e.Type == EventNew && e.Finding != nil && e.Finding.Object.Name == "broken"
	})
}

// TestWatchRedactsSecrets: what watch writes and sends never holds a
// Secret's value, even when an event message quotes it.
func TestWatchRedactsSecrets(t *testing.T) {
	env := testcluster.New(t)
	c := env.PlantCanaries(t)
	pod, err := env.Client.CoreV1().Pods(env.Namespace).Get(context.Background(), testcluster.CanaryPod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// An application's own event quoting the secret: redacted by value.
	_, err = env.Client.CoreV1().Events(env.Namespace).Create(context.Background(), &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: "leaky-"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: env.Namespace, Name: pod.Name, UID: pod.UID, APIVersion: "v1"},
		Type:           corev1.EventTypeWarning, Reason: "BackOff",
		Message:       "Back-off restarting failed container: connect with " + c.Secret + " refused",
		LastTimestamp: metav1.Now(), Count: 1,
		Source: corev1.EventSource{Component: "app"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t)
	disp, err := alert.NewDispatcher([]alert.ReceiverConfig{{Name: "test", URL: rcv.srv.URL, Format: alert.FormatJSON}}, slog.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = disp.Close(context.Background()) })
	w := startWatch(t, env.RESTConfig, Options{Diagnose: diagnose.Options{Namespace: env.Namespace, NamespaceExplicit: true}, Alerts: disp})
	w.wait(t, time.Minute, func(e Event) bool {
		return e.Type == EventNew && e.Finding != nil && e.Finding.Object.Name == testcluster.CanaryPod
	})
	waitAlerts(t, rcv, 1)
	time.Sleep(time.Second)

	var out strings.Builder
	w.mu.Lock()
	for _, e := range w.all {
		b, _ := json.Marshal(e)
		out.Write(b)
		out.WriteByte('\n')
	}
	w.mu.Unlock()
	rcv.mu.Lock()
	out.WriteString(strings.Join(rcv.bodies, "\n"))
	rcv.mu.Unlock()
	for _, canary := range c.All() {
		if strings.Contains(out.String(), canary) {
			t.Errorf("canary %q reached watch output or an alert", canary)
		}
	}
	if !strings.Contains(out.String(), "[REDACTED]") {
		t.Errorf("no [REDACTED] in watch output or alerts: the event quoting the Secret was not reported, so this test proves nothing:\n%s", out.String())
	}
}

// TestWatchMissingNamespace: a namespace that does not exist is an error at
// start, not a watch of nothing that looks healthy.
func TestWatchMissingNamespace(t *testing.T) {
	env := testcluster.New(t)
	w, err := New(env.RESTConfig, "test", Options{Diagnose: diagnose.Options{Namespace: "no-such-namespace-" + env.Namespace[len(env.Namespace)-6:]}})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Run(t.Context(), func(Event) error { return nil })
	if !errors.Is(err, tools.ErrNotFound) {
		t.Errorf("Run = %v, want tools.ErrNotFound", err)
	}
}

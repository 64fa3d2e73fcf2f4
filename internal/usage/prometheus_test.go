package usage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

// These tests check the parsing of the HTTP API's answers and the errors,
// against canned answers; prometheus_cluster_test.go runs the real server.

// cannedProm answers each figure's query with the values of answers[figure]
// (pod → value as Prometheus writes it), recognising the figure by its
// expression, and records the queries it got.
func cannedProm(t *testing.T, q PromQuery, answers map[string]map[string]string) (*httptest.Server, *[]string) {
	t.Helper()
	byExpr := map[string]string{}
	for _, f := range q.figures() {
		byExpr[f.expr] = f.name
	}
	var (
		mu  sync.Mutex
		got []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prom/api/v1/query" || r.ParseForm() != nil {
			http.NotFound(w, r)
			return
		}
		expr := r.PostForm.Get("query")
		mu.Lock()
		got = append(got, expr)
		mu.Unlock()
		name, ok := byExpr[expr]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"unexpected query %q"}`, expr)
			return
		}
		type sample struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		var result []sample
		for pod, v := range answers[name] {
			result = append(result, sample{Metric: map[string]string{"namespace": "shop", "pod": pod, "container": "app"}, Value: [2]any{1764676800.0, v}})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "warnings": []string{"partial answer"},
			"data": map[string]any{"resultType": "vector", "result": result}})
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestPrometheusFetchAndRecommend(t *testing.T) {
	t.Parallel()
	q := PromQuery{Namespace: "shop", Window: 7 * 24 * time.Hour, At: now, Step: 5 * time.Minute, RateRange: 5 * time.Minute}
	from, to := now.Add(-6*24*time.Hour), now.Add(-time.Minute)
	ts := func(t time.Time) string { return fmt.Sprint(t.Unix()) }
	// Two current pods of backend, one it had before a rollout (its name
	// says so), and a pod with memory but no CPU rate yet.
	answers := map[string]map[string]string{
		"CPU p50":      {"backend-abc-0": "0.04", "backend-abc-1": "0.05", "backend-7d9f8c-xk2zq": "0.03"},
		"CPU p90":      {"backend-abc-0": "0.1", "backend-abc-1": "0.15", "backend-7d9f8c-xk2zq": "0.1"},
		"CPU p95":      {"backend-abc-0": "0.12", "backend-abc-1": "0.2", "backend-7d9f8c-xk2zq": "0.35"},
		"CPU p99":      {"backend-abc-0": "0.2", "backend-abc-1": "0.3", "backend-7d9f8c-xk2zq": "0.4"},
		"CPU peak":     {"backend-abc-0": "0.25", "backend-abc-1": "0.3", "backend-7d9f8c-xk2zq": "0.45"},
		"memory p50":   {"backend-abc-0": "104857600", "backend-abc-1": "104857600", "backend-7d9f8c-xk2zq": "104857600", "worker-x": "1"},
		"memory p90":   {"backend-abc-0": "157286400", "backend-abc-1": "157286400", "backend-7d9f8c-xk2zq": "157286400", "worker-x": "1"},
		"memory p95":   {"backend-abc-0": "209715200", "backend-abc-1": "209715200", "backend-7d9f8c-xk2zq": "209715200", "worker-x": "1"},
		"memory p99":   {"backend-abc-0": "209715200", "backend-abc-1": "209715200", "backend-7d9f8c-xk2zq": "209715200", "worker-x": "1"},
		"memory peak":  {"backend-abc-0": "314572800", "backend-abc-1": "262144000", "backend-7d9f8c-xk2zq": "NaN", "worker-x": "1"},
		"samples":      {"backend-abc-0": "1000", "backend-abc-1": "1000", "backend-7d9f8c-xk2zq": "500", "worker-x": "1"},
		"first sample": {"backend-abc-0": ts(from.Add(time.Hour)), "backend-abc-1": ts(from.Add(time.Hour)), "backend-7d9f8c-xk2zq": ts(from), "worker-x": ts(to)},
		"last sample":  {"backend-abc-0": ts(to), "backend-abc-1": ts(to), "backend-7d9f8c-xk2zq": ts(from.Add(time.Hour)), "worker-x": ts(to)},
	}
	srv, queries := cannedProm(t, q, answers)
	c, err := NewPromClient(srv.URL+"/prom", nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.Fetch(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(*queries) != 13 {
		t.Errorf("%d queries, want 13 (5 CPU, 5 memory, samples, first and last)", len(*queries))
	}
	for _, expr := range *queries {
		if !strings.Contains(expr, `namespace="shop"`) || !strings.Contains(expr, `container!="POD"`) {
			t.Errorf("query %s does not select the namespace's containers", expr)
		}
	}
	want := PromSeries{Samples: 1000, From: from.Add(time.Hour), To: to,
		CPU:    Stats{P50: 40, P90: 100, P95: 120, P99: 200, Max: 250},
		Memory: Stats{P50: 100 << 20, P90: 150 << 20, P95: 200 << 20, P99: 200 << 20, Max: 300 << 20}}
	if got := u.Containers[PodContainer{"shop", "backend-abc-0", "app"}]; got != want {
		t.Errorf("backend-abc-0: got %+v, want %+v", got, want)
	}
	if _, ok := u.Containers[PodContainer{"shop", "worker-x", "app"}]; ok {
		t.Error("a container without a CPU rate must be left out, not sized as idle")
	}
	if _, ok := u.Containers[PodContainer{"shop", "backend-7d9f8c-xk2zq", "app"}]; ok {
		t.Error("a container whose memory peak is NaN has no memory figure and must be left out")
	}
	if len(u.Warnings) != 1 || u.Warnings[0] != "partial answer" {
		t.Errorf("warnings %q, want the server's one warning once", u.Warnings)
	}

	// The gone pod's memory is NaN above: give it a figure, and pool.
	fixed := u.Containers
	fixed[PodContainer{"shop", "backend-7d9f8c-xk2zq", "app"}] = PromSeries{Samples: 500, From: from, To: from.Add(time.Hour),
		CPU: Stats{P50: 30, P90: 100, P95: 350, P99: 400, Max: 450}, Memory: Stats{Max: 100 << 20}}
	pod := podSpec{req: rl("2", "2Gi"), lim: rl("4", "4Gi"), cpu: "100m", mem: "100Mi"}
	snap := snapshotOf(nil, func() (appsv1.Deployment, appsv1.ReplicaSet, []corev1.Pod, []metricsv1beta1.PodMetrics) {
		return deployment("shop", "backend", pod, pod)
	})
	rep := Recommend(snap, Options{Window: q.Window, Prometheus: u})
	r := only(t, rep, "backend")
	ev := r.Evidence
	if ev.Source != SourcePrometheus || ev.Samples != 2500 || ev.Window != "7d" || !ev.From.Equal(from) || !ev.To.Equal(to) {
		t.Errorf("evidence %+v: want prometheus, 2500 samples over 7d from %s to %s", ev, from, to)
	}
	// Pooled: the largest of the pods' figures, the gone pod's included.
	if ev.CPU.P95 != 350 || ev.CPU.Max != 450 || ev.Memory.Max != 300<<20 {
		t.Errorf("pooled cpu %+v memory %+v: want p95 350m, max 450m, memory max 300Mi", *ev.CPU, *ev.Memory)
	}
	if r.Confidence != ConfidenceHigh {
		t.Errorf("confidence %s, want high: 2500 samples over 6 days of a 7-day window", r.Confidence)
	}
	// 350m × 1.15 = 402.5 → 405m, but never below the 450m peak; 300Mi × 1.15 → 348Mi.
	if r.Recommended.CPURequest != 450 || r.Recommended.MemoryRequest != 348<<20 || r.Verdict != VerdictOversized {
		t.Errorf("recommended %+v verdict %s: want 450m and 348Mi, oversized", r.Recommended, r.Verdict)
	}
	if rep.Prometheus != srv.URL+"/prom" {
		t.Errorf("report names Prometheus %q, want %q", rep.Prometheus, srv.URL+"/prom")
	}

	// A container Prometheus has no series of falls back to the next
	// source, and the report says how many did.
	u.Containers = map[PodContainer]PromSeries{}
	rep = Recommend(snap, Options{Window: q.Window, Prometheus: u})
	if r := only(t, rep, "backend"); r.Evidence.Source != SourceMetricsServer {
		t.Errorf("source %s, want the metrics-server snapshot when Prometheus has no series", r.Evidence.Source)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "1 container(s) have no series in the Prometheus at") {
		t.Errorf("notes %q do not say a container had no Prometheus series", rep.Notes)
	}
}

func TestPrometheusConfidence(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name    string
		samples int
		span    time.Duration
		window  time.Duration
		want    Confidence
	}{
		{"a week of a week", 2000, 7 * day, 7 * day, ConfidenceHigh},
		{"half the window", 2000, 4 * day, 7 * day, ConfidenceHigh},
		{"a day of a week", 2000, day, 7 * day, ConfidenceMedium},
		{"few samples", 50, 7 * day, 7 * day, ConfidenceMedium},
		{"a short window", 2000, time.Hour, time.Hour, ConfidenceMedium},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &PromSeries{Samples: tt.samples, From: now.Add(-tt.span), To: now}
			if got := promConfidence(p, tt.window); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFormerOwners(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pod  string
		want []Workload
	}{
		// Most specific first: a Deployment's pod, else a DaemonSet's or
		// Job's whose name ends like a pod-template hash.
		{"backend-7d9f8c6b5-xk2zq", []Workload{{Kind: "Deployment", Name: "backend"},
			{Kind: "DaemonSet", Name: "backend-7d9f8c6b5"}, {Kind: "Job", Name: "backend-7d9f8c6b5"}}},
		{"web-api-7d9f8c6b5-xk2zq", []Workload{{Kind: "Deployment", Name: "web-api"},
			{Kind: "DaemonSet", Name: "web-api-7d9f8c6b5"}, {Kind: "Job", Name: "web-api-7d9f8c6b5"}}},
		{"db-0", []Workload{{Kind: "StatefulSet", Name: "db"}}},
		{"db-12", []Workload{{Kind: "StatefulSet", Name: "db"}}},
		{"agent-xk2zq", []Workload{{Kind: "DaemonSet", Name: "agent"}, {Kind: "Job", Name: "agent"}}},
		{"standalone", nil},
		{"db-01", nil},           // not an ordinal
		{"backend-abc-xyz", nil}, // vowels: not generated
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			t.Parallel()
			got := formerOwners(tt.pod)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPrometheusErrors(t *testing.T) {
	t.Parallel()
	answer := func(status int, contentType, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name    string
		url     string
		want    []string
		notWant string
	}{
		{name: "unreachable", url: strings.Replace(closed.URL, "http://", "http://me:s3cret@", 1),
			want: []string{"cannot reach Prometheus at http://me:xxxxx@127.0.0.1", "check the URL"}, notWant: "s3cret"},
		{name: "not the API", url: answer(200, "text/html; charset=utf-8", "<html>Grafana</html>"),
			want: []string{"did not answer as the Prometheus HTTP API", `"text/html"`, "base URL"}},
		{name: "refused", url: answer(422, "application/json", `{"status":"error","errorType":"execution","error":"query timed out"}`),
			want: []string{"refused the CPU p50 query (HTTP 422, execution): query timed out"}},
		{name: "not a vector", url: answer(200, "application/json", `{"status":"success","data":{"resultType":"matrix","result":[]}}`),
			want: []string{"with a matrix, not a vector"}},
		{name: "bad value", url: answer(200, "application/json", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}`),
			want: []string{`value "x" is not a number`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewPromClient(tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Fetch(context.Background(), PromQuery{Window: time.Hour})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error %q shows %q", err, tt.notWant)
			}
		})
	}
	for _, bad := range []string{"prometheus:9090", "ftp://x", "http://", "http://u:s3cret@[::1"} {
		_, err := NewPromClient(bad, nil)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("NewPromClient(%q): error %v, want a refusal without the password", bad, err)
		}
	}
}

package server_test

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsagent/opsagent/internal/server"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// BenchmarkServeLoad measures the server on loopback against the test
// cluster, in planner mode: read requests ("list pods in NS") submitted
// together, each followed on its event stream until it ends. The baseline
// is one request at a time; the load is 50 at once while 5 other requests
// hold pending approvals. It reports the latency percentiles of one request
// (submit to done), the peak heap, and checks that the goroutines return
// to the count before the load once it is over.
//
//	go test -run '^$' -bench ServeLoad -benchtime 3x ./internal/server/
func BenchmarkServeLoad(b *testing.B) {
	e := testcluster.New(b)
	s := newTestServer(b, e, func(c *server.Config) {
		// One caller sends all 50: lift its per-caller limits above them.
		c.MaxActive, c.MaxConcurrent = 64, 128
	})
	reader := e.CallerToken(b, "reader", readRules...)
	writer := e.CallerToken(b, "writer", writeRules...)
	e.Deployment(b, "web", 1)
	text := "list pods in " + e.Namespace
	// Warm up: the first request opens client-go's cached connection to
	// the API server, which stays for the process; it is not the load's.
	s.waitEnded(b, reader, s.submit(b, reader, map[string]any{"text": text, "namespace": e.Namespace}))

	for _, tc := range []struct {
		name              string
		concurrent, holds int
	}{
		{"baseline-1", 1, 0},
		{"50-reads-5-pending", 50, 5},
	} {
		b.Run(tc.name, func(b *testing.B) {
			http.DefaultClient.CloseIdleConnections()
			time.Sleep(100 * time.Millisecond) // let closed connections' goroutines end
			baseline := runtime.NumGoroutine()
			peak := watchHeap()

			var held []string
			for range tc.holds {
				id := s.submit(b, writer, map[string]any{"text": "scale web to 2", "namespace": e.Namespace})
				held = append(held, id)
				s.waitPending(b, writer, id)
			}
			var latencies []time.Duration
			var mu sync.Mutex
			b.ResetTimer()
			for b.Loop() {
				var wg sync.WaitGroup
				for range tc.concurrent {
					wg.Go(func() {
						start := time.Now()
						id := s.submit(b, reader, map[string]any{"text": text, "namespace": e.Namespace})
						evs := readEvents(b, b.Context(), s.URL+"/api/v1/requests/"+id+"/events", reader)
						d := time.Since(start)
						if len(evs) == 0 || evs[len(evs)-1].Type != "done" {
							b.Errorf("request %s: the stream did not end with done: %v", id, evs)
						}
						mu.Lock()
						latencies = append(latencies, d)
						mu.Unlock()
					})
				}
				wg.Wait()
			}
			b.StopTimer()
			for _, id := range held {
				v := s.waitFor(b, writer, id, "still pending under load", func(v requestView) bool { return len(v.pending()) == 1 })
				if code, body := s.decide(b, writer, id, v.pending()[0].ID, "deny"); code != http.StatusOK {
					b.Fatalf("deny held approval: %d %s", code, body)
				}
				s.waitEnded(b, writer, id)
			}
			heap := peak()

			slices.Sort(latencies)
			pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
			b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")

			http.DefaultClient.CloseIdleConnections()
			after := settleGoroutines(baseline)
			b.ReportMetric(float64(after-baseline), "goroutines-left")
			if after > baseline {
				buf := make([]byte, 1<<20)
				b.Fatalf("goroutines did not return to the baseline: %d before the load, %d after\n%s", baseline, after, buf[:runtime.Stack(buf, true)])
			}
		})
	}
}

// watchHeap samples the heap in use until the returned func is called,
// which returns the peak seen.
func watchHeap() func() uint64 {
	var peak atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		cancel()
		<-done
		return peak.Load()
	}
}

// settleGoroutines waits up to ten seconds for the goroutine count to come
// down to baseline (connections closing, streams ending) and returns it.
func settleGoroutines(baseline int) int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

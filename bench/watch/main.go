// Command watch-bench measures what `opsagent watch -A` costs once it has
// synced, on a big cluster, against a baseline in the same run: a poller
// that runs the same diagnosis with LISTs every -interval (what a cron job
// or a loop around `opsagent diagnose -A` does). For each, over -window:
// CPU time of the process, API requests per minute by verb, and memory
// (live heap at the end of the window, and the peak); for watch also the
// time to fill its caches.
//
// It is a program, not a test: it needs bench/diagnose's 5,000-pod sandbox,
//
//	go build -o /tmp/opsagent ./cmd/opsagent
//	/tmp/opsagent sandbox up --name bench --nodes 50 --node-pods 1100 --node-cpu 64 --node-memory 128Gi
//	go run ./bench/diagnose -kubeconfig ~/.local/state/opsagent/sandbox/bench/kubeconfig -seed -runs 0
//	go run ./bench/watch -kubeconfig ~/.local/state/opsagent/sandbox/bench/kubeconfig
//
// The two run one after the other in this process, so each window's CPU
// time is its own. Figures are in docs/performance.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/opsagent/opsagent/bench/internal/heap"
	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/watch"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the benchmark sandbox")
	window := flag.Duration("window", 2*time.Minute, "how long each approach is measured once synced")
	interval := flag.Duration("interval", 30*time.Second, "the poller's period, and watch's re-diagnosis interval")
	apiserver := flag.Int("apiserver-pid", 0, "also measure the CPU time of this kube-apiserver process (`opsagent sandbox status --name bench` shows it)")
	flag.Parse()
	if err := run(*kubeconfig, *window, *interval, *apiserver); err != nil {
		fmt.Fprintln(os.Stderr, "watch-bench:", err)
		os.Exit(1)
	}
}

var verbs = []string{"list", "watch", "get", "create"}

func run(kubeconfig string, window, interval time.Duration, apiserver int) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	opts := diagnose.Options{AllNamespaces: true, Logs: diagnose.LogOptions{Disabled: true}}
	ctx := context.Background()

	// 0. The cluster alone: what the API server spends with neither client,
	//    for the others to be read against.
	if apiserver != 0 {
		fmt.Println("neither (the cluster's own activity):")
		measureWindow(window, apiserver).print(window, nil, nil)
	}

	// 1. watch: synced, then left alone for the window.
	fmt.Printf("watch -A (re-diagnosis every %s, and on change):\n", interval)
	wm := watch.NewMetrics(nil)
	w, err := watch.New(cfg, "bench", watch.Options{Diagnose: opts, Interval: interval, Metrics: wm})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	synced := make(chan watch.Event, 1)
	var findings atomic.Int64
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- w.Run(wctx, func(e watch.Event) error {
			switch e.Type {
			case watch.EventSynced:
				synced <- e
			case watch.EventNew:
				findings.Add(1)
			}
			return nil
		})
	}()
	var e watch.Event
	select {
	case e = <-synced:
	case err := <-done:
		cancel()
		return fmt.Errorf("watch stopped before it synced: %v", err)
	}
	objects := 0
	for _, n := range e.Sync.Objects {
		objects += n
	}
	fmt.Printf("  synced %d objects (%d pods) in %s\n", objects, e.Sync.Objects["pods"], time.Since(start).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // the first diagnosis
	fmt.Printf("  open findings after the first diagnosis: %d\n", findings.Load())
	before := requests(wm)
	analysesBefore := testutil.ToFloat64(wm.Analyses)
	m := measureWindow(window, apiserver)
	after := requests(wm)
	fmt.Printf("  diagnoses in the window: %.0f\n", testutil.ToFloat64(wm.Analyses)-analysesBefore)
	m.print(window, before, after)
	cancel()
	if err := <-done; err != nil {
		return err
	}

	// 2. The baseline: the same diagnosis, by LISTs, every interval.
	runtime.GC()
	fmt.Printf("poll: diagnose -A with LISTs every %s:\n", interval)
	pm := watch.NewMetrics(nil)
	d, err := diagnose.NewForConfig(pm.Instrument(cfg), "bench")
	if err != nil {
		return err
	}
	if _, err := d.Diagnose(ctx, opts); err != nil { // warm-up, as watch's first fill
		return err
	}
	before = requests(pm)
	pctx, pcancel := context.WithCancel(ctx)
	pdone := make(chan struct{})
	go func() {
		defer close(pdone)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if _, err := d.Diagnose(pctx, opts); err != nil && pctx.Err() == nil {
				fmt.Fprintln(os.Stderr, "poll:", err)
			}
			select {
			case <-pctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	m = measureWindow(window, apiserver)
	pcancel()
	<-pdone
	after = requests(pm)
	m.print(window, before, after)
	return nil
}

func requests(m *watch.Metrics) map[string]float64 {
	out := map[string]float64{}
	for _, v := range verbs {
		out[v] = testutil.ToFloat64(m.APIRequests.WithLabelValues(v))
	}
	return out
}

type windowFigures struct {
	cpu, apiserverCPU time.Duration
	heapEnd           uint64
	heapPeak          uint64
	goroutines        int
}

// measureWindow waits for window and returns the process's CPU time in it
// and its heap.
func measureWindow(window time.Duration, apiserver int) windowFigures {
	stop := heap.SamplePeak(10 * time.Millisecond)
	cpu0, api0 := cpuTime(), processCPU(apiserver)
	time.Sleep(window)
	f := windowFigures{cpu: cpuTime() - cpu0, apiserverCPU: processCPU(apiserver) - api0, heapPeak: stop(), goroutines: runtime.NumGoroutine()}
	runtime.GC()
	f.heapEnd = heap.Live()
	return f
}

func (f windowFigures) print(window time.Duration, before, after map[string]float64) {
	perMin := func(v string) float64 { return (after[v] - before[v]) / window.Minutes() }
	fmt.Printf("  CPU: %s in %s (%.2f%% of one core)\n", f.cpu.Round(time.Millisecond), window, 100*f.cpu.Seconds()/window.Seconds())
	if f.apiserverCPU > 0 {
		fmt.Printf("  kube-apiserver CPU: %s in %s (%.2f%% of one core)\n", f.apiserverCPU.Round(time.Millisecond), window, 100*f.apiserverCPU.Seconds()/window.Seconds())
	}
	if before == nil {
		return
	}
	fmt.Printf("  API requests per minute: %.1f list, %.1f watch, %.1f get, %.1f create\n", perMin("list"), perMin("watch"), perMin("get"), perMin("create"))
	fmt.Printf("  heap: %.0f MiB live at the end, %.0f MiB peak; %d goroutines\n", float64(f.heapEnd)/(1<<20), float64(f.heapPeak)/(1<<20), f.goroutines)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU is the user and system CPU time of another process, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux);
// 0 when pid is 0 or unreadable.
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from after it.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// Command diagnose-bench measures `opsagent diagnose -A` on a large cluster:
// wall time, API requests and memory, against baselines in the same run:
//
//   - unpaged: the same diagnosis reading each kind in one LIST (what
//     diagnose did before it paged; docs/performance.md);
//   - per-namespace: the same analyzers, but listing every kind once per
//     namespace (what a loop over `diagnose -n NS` costs);
//   - per-object: what a describe-style tool does, listing pods once and then
//     reading each pod's events and owners one request at a time;
//   - with -cli (repeatable), opsagent binaries run as a user runs them,
//     `diagnose -A -o json`: wall time and peak RSS, e.g. this build and the
//     last commit's.
//
// It is a program, not a test: it needs a big sandbox of its own, e.g.
//
//	go build -o /tmp/opsagent ./cmd/opsagent
//	/tmp/opsagent sandbox up --name bench --nodes 50 --node-pods 1100 --node-cpu 64 --node-memory 128Gi
//	go run ./bench/diagnose -kubeconfig ~/.local/state/opsagent/sandbox/bench/kubeconfig -seed
//	go run ./bench/diagnose -kubeconfig ~/.local/state/opsagent/sandbox/bench/kubeconfig -runs 10 -cli /tmp/opsagent
//	/tmp/opsagent sandbox down --name bench --purge
//
// -seed creates -namespaces namespaces (default 50) of 100 pods each, 5% of
// them failing in varied ways through the sandbox's failure simulation, and
// waits until the simulation has acted on them: 50 is 5,000 pods, 500 is
// 50,000 (seeding again with more namespaces adds to what is there).
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/opsagent/opsagent/bench/internal/heap"
	"github.com/opsagent/opsagent/internal/diagnose"
)

// Shape of the seeded cluster.
const (
	defaultNS       = 50
	podsPerNS       = 100
	webReplicas     = 10
	brokenReplicas  = 2
	failingBarePods = 3
	nsPrefix        = "bench-"
	simLabel        = "sim.opsagent.dev/state"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the benchmark sandbox")
	seed := flag.Bool("seed", false, "create the 5,000-pod workload first")
	cleanup := flag.Bool("cleanup", false, "delete the benchmark namespaces and exit")
	nsCount := flag.Int("namespaces", defaultNS, "namespaces to seed, 100 pods each (50: 5,000 pods; 500: 50,000)")
	runs := flag.Int("runs", 5, "measured runs of each approach (0: only seed or clean up)")
	naive := flag.Bool("naive", true, "also run the per-object baseline (thousands of requests)")
	perNS := flag.Bool("per-namespace", true, "also run the per-namespace baseline (about 19 requests per namespace)")
	full := flag.Bool("full", true, "also run diagnose with log reads and over JSON (false: only the API cost, paged and unpaged)")
	logConcurrency := flag.Int("log-concurrency", 0, "log reads at once (default: diagnose's, 8)")
	var clis []string
	flag.Func("cli", "an opsagent binary to run as `diagnose -A -o json` for wall time and peak RSS (repeat: e.g. this build and a baseline build)", func(v string) error {
		clis = append(clis, v)
		return nil
	})
	flag.Parse()
	if err := run(*kubeconfig, *seed, *nsCount, *cleanup, *runs, *naive, *perNS, *full, *logConcurrency); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	if err := runCLIs(*kubeconfig, clis, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// counter counts API requests by kind through a wrapping RoundTripper.
type counter struct{ lists, logs, other, bytes atomic.Int64 }

func (c *counter) wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return rtFunc(func(r *http.Request) (*http.Response, error) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/log"):
				c.logs.Add(1)
			case r.Method == http.MethodGet && isList(r.URL.Path):
				c.lists.Add(1)
			default:
				c.other.Add(1)
			}
			resp, err := rt.RoundTrip(r)
			if err == nil {
				resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.bytes}
			}
			return resp, err
		})
	})
	return cfg
}

// countingBody counts the bytes of a response body as they are read.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (c *counter) reset() { c.lists.Store(0); c.logs.Store(0); c.other.Store(0); c.bytes.Store(0) }

func (c *counter) api() int64 { return c.lists.Load() + c.other.Load() }

// isList tells a collection URL (…/pods) from an object URL (…/pods/NAME).
func isList(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	base := 3 // /apis/GROUP/VERSION/...
	if len(parts) > 0 && parts[0] == "api" {
		base = 2 // /api/v1/...
	}
	if len(parts) <= base {
		return false
	}
	rest := parts[base:]
	if rest[0] == "namespaces" && len(rest) >= 3 {
		rest = rest[2:]
	}
	return len(rest) == 1
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func run(kubeconfig string, seed bool, namespaces int, cleanup bool, runs int, naive, perNS, full bool, logConcurrency int) error {
	if kubeconfig == "" {
		return errors.New("give -kubeconfig (the benchmark sandbox's)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	ctx := context.Background()
	admin := rest.CopyConfig(cfg)
	admin.QPS, admin.Burst = 500, 1000
	client, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	if cleanup {
		return deleteNamespaces(ctx, client)
	}
	if seed {
		if err := seedCluster(ctx, client, namespaces); err != nil {
			return err
		}
	}
	if runs <= 0 {
		return nil
	}
	pods, err := countPods(ctx, client, "")
	if err != nil {
		return err
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	fmt.Printf("cluster: %d nodes, %d pods; %d CPUs for this process (GOMAXPROCS %d)\n\n", len(nodes.Items), pods, runtime.NumCPU(), runtime.GOMAXPROCS(0))

	var c counter
	// A new Diagnoser per run, as each CLI invocation has: a client-side
	// rate limiter (50 QPS, burst 100) shared across back-to-back runs would
	// measure the limiter, not the diagnosis.
	fresh := func(o diagnose.Options) func() (*diagnose.Report, error) {
		return func() (*diagnose.Report, error) {
			d, err := diagnose.NewForConfig(c.wrap(cfg), "bench")
			if err != nil {
				return nil, err
			}
			return d.Diagnose(ctx, o)
		}
	}
	d, err := diagnose.NewForConfig(c.wrap(cfg), "bench")
	if err != nil {
		return err
	}
	all := diagnose.Options{AllNamespaces: true, Logs: diagnose.LogOptions{Concurrency: logConcurrency}}

	if full {
		fmt.Println("diagnose -A (lists once per kind, protobuf, logs of up to 30 failing containers):")
		best, err := measure(runs, &c, fresh(all))
		if err != nil {
			return err
		}
		fmt.Printf("  findings: %d critical, %d warning in %d groups; %d pods checked\n\n", best.Summary.Critical, best.Summary.Warning, best.Summary.Groups, best.Summary.Checked["Pod"])
	}
	fmt.Println("diagnose -A without log reads (the API cost alone):")
	noLogs := all
	noLogs.Logs.Disabled = true
	rep, err := measure(runs, &c, fresh(noLogs))
	if err != nil {
		return err
	}
	fmt.Printf("  findings: %d critical, %d warning in %d groups; %d pods checked\n", rep.Summary.Critical, rep.Summary.Warning, rep.Summary.Groups, rep.Summary.Checked["Pod"])

	fmt.Println("\nbaseline whole pods: the same, every pod kept whole (as before settled pods were kept as records):")
	whole := noLogs
	whole.WholePods = true
	if _, err := measure(runs, &c, fresh(whole)); err != nil {
		return err
	}

	fmt.Println("\nbaseline unpaged: the same, each kind in one LIST (as before paging; objects still slimmed):")
	unpaged := noLogs
	unpaged.PageSize = -1
	if _, err := measure(runs, &c, fresh(unpaged)); err != nil {
		return err
	}

	if full {
		fmt.Println("\nsame, JSON instead of protobuf:")
		jsonCfg := c.wrap(cfg)
		jsonCfg.QPS, jsonCfg.Burst = diagnoseQPS(cfg)
		// client-go's typed clients ask for protobuf by default; force JSON.
		jsonCfg.ContentType, jsonCfg.AcceptContentTypes = "application/json", "application/json"
		if _, err := measure(runs, &c, func() (*diagnose.Report, error) {
			jc, err := kubernetes.NewForConfig(jsonCfg)
			if err != nil {
				return nil, err
			}
			mc, err := metadata.NewForConfig(jsonCfg)
			if err != nil {
				return nil, err
			}
			return diagnose.NewForClient(jc, mc, "bench-json").Diagnose(ctx, noLogs)
		}); err != nil {
			return err
		}
	}

	if perNS {
		fmt.Println("\nbaseline per-namespace: the same analyzers once per namespace:")
		if _, err := measure(max(1, runs/2), &c, func() (*diagnose.Report, error) { return perNamespace(ctx, client, d) }); err != nil {
			return err
		}
	}

	if naive {
		fmt.Println("\nbaseline per-object: list pods, then each pod's events and owners one by one (QPS 500):")
		nc := c.wrap(admin)
		nclient, err := kubernetes.NewForConfig(nc)
		if err != nil {
			return err
		}
		if _, err := measure(1, &c, func() (*diagnose.Report, error) { return nil, perObject(ctx, nclient) }); err != nil {
			return err
		}
	}
	return nil
}

// runCLIs runs each binary as a user would, `diagnose -A -o json`, runs
// times after a warm-up, and prints the median wall time and the largest
// peak RSS. Exit code 4 (problems found) is the expected one.
//
// Peak RSS comes from GNU time (`/usr/bin/time -f %M`), not from this
// process's rusage of the child: Linux starts a forked child's maximum RSS
// at its parent's RSS, so a child of this benchmark (hundreds of MiB after
// the in-process runs) would report the benchmark's size, not its own.
func runCLIs(kubeconfig string, clis []string, runs int) error {
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err != nil && len(clis) > 0 {
		fmt.Println("\n(no /usr/bin/time: peak RSS not measured; apt-get install time)")
	}
	for _, bin := range clis {
		fmt.Printf("\nCLI %s diagnose -A -o json:\n", bin)
		var times, cpus []time.Duration
		var rssKiB int64
		for i := range runs + 1 {
			argv := []string{bin, "diagnose", "-A", "-o", "json", "--kubeconfig", kubeconfig}
			rssFile := ""
			if gnuTime != "" {
				f, err := os.CreateTemp("", "diagnose-bench-rss-")
				if err != nil {
					return err
				}
				_ = f.Close()
				rssFile = f.Name()
				argv = append([]string{gnuTime, "-f", "%M %U %S", "-o", rssFile}, argv...)
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			if ee := (*exec.ExitError)(nil); err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 4) {
				return fmt.Errorf("%s: %w", bin, err)
			}
			if rssFile != "" {
				if b, err := os.ReadFile(rssFile); err == nil {
					// GNU time writes "Command exited with non-zero status 4" first.
					f := strings.Fields(string(b))
					if len(f) >= 3 && i > 0 {
						if n, err := strconv.ParseInt(f[len(f)-3], 10, 64); err == nil {
							rssKiB = max(rssKiB, n)
						}
						user, _ := strconv.ParseFloat(f[len(f)-2], 64)
						sys, _ := strconv.ParseFloat(f[len(f)-1], 64)
						cpus = append(cpus, time.Duration((user+sys)*float64(time.Second)))
					}
				}
				_ = os.Remove(rssFile)
			}
			if i == 0 {
				continue // warm-up: page cache, connections
			}
			times = append(times, took)
		}
		slices.Sort(times)
		slices.Sort(cpus)
		cpu := "not measured"
		if len(cpus) > 0 {
			cpu = cpus[len(cpus)/2].Round(10 * time.Millisecond).String()
		}
		fmt.Printf("  wall: median %s, best %s over %d runs; CPU (user+sys) median %s; peak RSS %.0f MiB\n", times[len(times)/2].Round(time.Millisecond), times[0].Round(time.Millisecond), runs, cpu, float64(rssKiB)/1024)
	}
	return nil
}

func diagnoseQPS(cfg *rest.Config) (float32, int) {
	return max(cfg.QPS, 50), max(cfg.Burst, 100)
}

// measure runs f once to warm up, then runs times, and prints the median and
// best wall time, the requests of one run and the memory it allocated.
func measure(runs int, c *counter, f func() (*diagnose.Report, error)) (*diagnose.Report, error) {
	if _, err := f(); err != nil { // warm-up: connections, discovery
		return nil, err
	}
	var (
		times       []time.Duration
		rep         *diagnose.Report
		lists, logs int64
		api, read   int64
		alloc, used uint64
		peak        uint64
	)
	for range runs {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c.reset()
		stop := heap.SamplePeak(2 * time.Millisecond)
		start := time.Now()
		r, err := f()
		if err != nil {
			stop()
			return nil, err
		}
		times = append(times, time.Since(start))
		peak = max(peak, stop())
		runtime.ReadMemStats(&after)
		rep, lists, logs, api, read = r, c.lists.Load(), c.logs.Load(), c.api(), c.bytes.Load()
		alloc = max(alloc, after.TotalAlloc-before.TotalAlloc)
		used = max(used, after.HeapAlloc)
	}
	slices.SortFunc(times, func(a, b time.Duration) int { return cmp.Compare(a, b) })
	fmt.Printf("  wall: median %s, best %s over %d runs\n", times[len(times)/2].Round(time.Millisecond), times[0].Round(time.Millisecond), runs)
	fmt.Printf("  API requests per run: %d (%d lists, %d other), log reads: %d; %.1f MiB received\n", api, lists, api-lists, logs, float64(read)/(1<<20))
	fmt.Printf("  memory per run: %.0f MiB allocated, %.0f MiB peak heap, %.0f MiB heap in use at the end\n", float64(alloc)/(1<<20), float64(peak)/(1<<20), float64(used)/(1<<20))
	return rep, nil
}

// perNamespace is the per-namespace baseline: list the namespaces, then run
// the same diagnosis once per namespace, sequentially.
func perNamespace(ctx context.Context, client kubernetes.Interface, d *diagnose.Diagnoser) (*diagnose.Report, error) {
	nss, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var last *diagnose.Report
	for _, ns := range nss.Items {
		r, err := d.Diagnose(ctx, diagnose.Options{Namespace: ns.Name, Logs: diagnose.LogOptions{Disabled: true}})
		if err != nil {
			return nil, err
		}
		last = r
	}
	return last, nil
}

// perObject is the describe-style baseline: pods once, then one events
// request per pod and one GET per owner, 32 at a time.
func perObject(ctx context.Context, client kubernetes.Interface) error {
	pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i := range pods.Items {
		p := &pods.Items[i]
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := client.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.uid=" + string(p.UID)})
			if err == nil {
				if o := metav1.GetControllerOf(p); o != nil && o.Kind == "ReplicaSet" {
					_, err = client.AppsV1().ReplicaSets(p.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
				}
			}
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return err
	}
	return nil
}

// countPods counts the pods matching selector a page at a time: one
// unpaged LIST of 50,000 pods can outlast the API server's request timeout
// on a busy machine.
func countPods(ctx context.Context, c kubernetes.Interface, selector string) (int, error) {
	n := 0
	opts := metav1.ListOptions{LabelSelector: selector, Limit: 1000}
	for {
		l, err := c.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			return n, err
		}
		n += len(l.Items)
		if l.Continue == "" {
			return n, nil
		}
		opts.Continue = l.Continue
	}
}

// failures rotate over the namespaces so that every kind of failure occurs.
var failures = []string{"CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "Unready", "Error", "unschedulable", "missing-secret"}

func seedCluster(ctx context.Context, c kubernetes.Interface, namespaces int) error {
	start := time.Now()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	do := func(f func() error) {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := f(); err != nil && !apierrors.IsAlreadyExists(err) {
				firstErr.CompareAndSwap(nil, err)
			}
		})
	}
	for i := range namespaces {
		ns := fmt.Sprintf("%s%02d", nsPrefix, i)
		if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	// The API refuses pods until a namespace's default ServiceAccount exists.
	for i := range namespaces {
		ns := fmt.Sprintf("%s%02d", nsPrefix, i)
		for {
			if _, err := c.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for i := range namespaces {
		ns := fmt.Sprintf("%s%02d", nsPrefix, i)
		brokenState := failures[i%4] // a Deployment in crash loop, OOM, image pull or unready
		do(func() error {
			_, err := c.AppsV1().Deployments(ns).Create(ctx, deployment("web", webReplicas, ""), metav1.CreateOptions{})
			return err
		})
		do(func() error {
			_, err := c.AppsV1().Deployments(ns).Create(ctx, deployment("broken", brokenReplicas, brokenState), metav1.CreateOptions{})
			return err
		})
		do(func() error {
			_, err := c.CoreV1().Services(ns).Create(ctx, service("web", "web"), metav1.CreateOptions{})
			return err
		})
		if i%10 == 0 {
			do(func() error {
				_, err := c.CoreV1().Services(ns).Create(ctx, service("api", "apii"), metav1.CreateOptions{})
				return err
			})
		}
		healthy := podsPerNS - webReplicas - brokenReplicas - failingBarePods
		for j := range healthy {
			do(func() error {
				_, err := c.CoreV1().Pods(ns).Create(ctx, pod(fmt.Sprintf("worker-%03d", j), ""), metav1.CreateOptions{})
				return err
			})
		}
		for j := range failingBarePods {
			state := failures[(i*failingBarePods+j)%len(failures)]
			do(func() error {
				_, err := c.CoreV1().Pods(ns).Create(ctx, pod(fmt.Sprintf("job-%d", j), state), metav1.CreateOptions{})
				return err
			})
		}
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return err
	}
	fmt.Printf("seeded %d namespaces in %s; waiting for the simulation\n", namespaces, time.Since(start).Round(time.Second))
	for {
		pods, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "bench", ResourceVersion: "0"})
		if err != nil {
			return err
		}
		settled := 0
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodPending || len(p.Status.ContainerStatuses) > 0 || len(p.Status.Conditions) > 0 && p.Spec.NodeName == "" {
				settled++
			}
		}
		fmt.Printf("  %d/%d pods settled\n", settled, namespaces*podsPerNS)
		if settled >= namespaces*podsPerNS {
			break
		}
		if n, err := startScheduled(ctx, c, pods.Items); err != nil {
			return err
		} else if n > 0 {
			fmt.Printf("  %d scheduled healthy pods started by the benchmark (kwok lags)\n", n)
		}
		time.Sleep(5 * time.Second)
	}
	fmt.Printf("seeded and settled in %s\n\n", time.Since(start).Round(time.Second))
	return nil
}

// startScheduled writes the status kwok's pod-ready stage would write
// (internal/sandbox/stages/pod-ready.yaml) to every scheduled, still
// Pending pod without a failure-simulation label, 32 at a time. kwok plays
// its stages with four workers, and on a loaded 2-core machine its patches
// came at two or three a second, most of them the crash-looping pods'
// restarts: 50,000 pods would have taken hours to start. The pods then
// look exactly as if kwok had started them, and kwok's stage no longer
// selects them (it selects Pending pods).
func startScheduled(ctx context.Context, c kubernetes.Interface, pods []corev1.Pod) (int, error) {
	var todo []*corev1.Pod
	for i := range pods {
		p := &pods[i]
		if _, sim := p.Labels[simLabel]; !sim && p.Spec.NodeName != "" && p.Status.Phase == corev1.PodPending && len(p.Status.ContainerStatuses) == 0 {
			todo = append(todo, p)
		}
	}
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i, p := range todo {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			now := metav1.Now()
			p.Status.Phase = corev1.PodRunning
			p.Status.HostIP = "127.0.0.1"
			p.Status.PodIP = fmt.Sprintf("10.244.%d.%d", 128+i/250%120, 1+i%250)
			p.Status.StartTime = &now
			p.Status.Conditions = []corev1.PodCondition{
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			}
			p.Status.ContainerStatuses = nil
			for _, ctr := range p.Spec.Containers {
				p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: ctr.Name, Image: ctr.Image, Ready: true,
					State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}})
			}
			if _, err := c.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
				firstErr.CompareAndSwap(nil, err)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, err
	}
	return len(todo), nil
}

func podSpec(state string) corev1.PodSpec {
	zero := int64(0)
	c := corev1.Container{Name: "app", Image: "ghcr.io/acme/app:1.0", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}
	switch state {
	case "unschedulable":
		c.Resources.Requests[corev1.ResourceCPU] = resource.MustParse("100")
	case "missing-secret":
		c.Env = []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "api-token"}, Key: "token"}}}}
	case "Unready":
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}}}
	}
	spec := corev1.PodSpec{Containers: []corev1.Container{c}, TerminationGracePeriodSeconds: &zero}
	if state == "Error" {
		spec.RestartPolicy = corev1.RestartPolicyNever
	}
	return spec
}

func labels(app, state string) map[string]string {
	l := map[string]string{"app": app, "bench": "true"}
	switch state {
	case "", "unschedulable", "missing-secret":
	default:
		l[simLabel] = state
	}
	return l
}

func pod(name, state string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels("worker", state)}, Spec: podSpec(state)}
}

func deployment(name string, replicas int32, state string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels(name, state)}, Spec: podSpec(state)},
		},
	}
}

func service(name, selector string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": selector}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}}},
	}
}

func deleteNamespaces(ctx context.Context, c kubernetes.Interface) error {
	nss, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, ns := range nss.Items {
		if strings.HasPrefix(ns.Name, nsPrefix) {
			if err := c.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}

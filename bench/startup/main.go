// Command startup-bench measures how long opsagent takes to start: wall
// time and CPU time (user + system, from the kernel's rusage of the child)
// of commands run as a user runs them, each against reference commands in
// the same run:
//
//   - a hello-world Go binary (the floor of any Go program here), built by
//     the benchmark itself;
//   - bench/startup/floor, a cobra command linking client-go's clients and
//     nothing else (the floor of a client-go CLI), built as releases are;
//   - `kubectl version --client`, when kubectl is on PATH;
//   - any other opsagent build given with -baseline (e.g. the last commit's).
//
// It is a program, not a test: timings on a shared machine belong beside
// their baseline, not in an assertion. The measured commands take turns, run
// by run, so that load from other work weighs on each alike. Usage, with
// binaries built as releases are (hack/release.sh: static, no cgo):
//
//	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /tmp/opsagent ./cmd/opsagent
//	go run ./bench/startup -opsagent /tmp/opsagent -baseline /tmp/opsagent-old \
//	    -kubeconfig ~/.local/state/opsagent/sandbox/default/kubeconfig -runs 40
//
// It prints package initialisation side by side for every binary (median
// per package, and allocations, which do not depend on load), then wall and
// CPU times. With -kubeconfig it also times `diagnose -n NS` of an empty
// namespace it creates (and deletes afterwards). CPU time is the steadier
// figure when other work shares the machine: wall time includes waiting for
// a core.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	opsagent := flag.String("opsagent", "bin/opsagent", "the opsagent binary to measure")
	var baselines []string
	flag.Func("baseline", "another opsagent binary to measure the same way (repeatable)", func(v string) error {
		baselines = append(baselines, v)
		return nil
	})
	kubeconfig := flag.String("kubeconfig", "", "a cluster for the empty-namespace diagnose (none: skipped)")
	runs := flag.Int("runs", 30, "measured runs of each command, after 3 warm-up runs")
	flag.Parse()
	if err := run(*opsagent, baselines, *kubeconfig, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// command is one measured command line. Exit code 4 (diagnose found
// problems) counts as success.
type command struct {
	name string
	argv []string
}

func run(opsagent string, baselines []string, kubeconfig string, runs int) error {
	hello, err := buildHello()
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(filepath.Dir(hello)) }() // a temp dir; leaving it is harmless
	cmds := []command{{"hello-world Go binary", []string{hello}}}
	floor, err := buildFloor(filepath.Dir(hello))
	if err != nil {
		return err
	}
	cmds = append(cmds, command{"client-go CLI floor --help (bench/startup/floor)", []string{floor, "--help"}})
	if k, err := exec.LookPath("kubectl"); err == nil {
		cmds = append(cmds, command{"kubectl version --client", []string{k, "version", "--client"}})
	}
	bins := append([]string{opsagent}, baselines...)
	for _, b := range bins {
		cmds = append(cmds, command{b + " --help", []string{b, "--help"}})
	}
	if kubeconfig != "" {
		ns, cleanup, err := emptyNamespace(kubeconfig)
		if err != nil {
			return err
		}
		defer cleanup()
		for _, b := range bins {
			cmds = append(cmds, command{b + " diagnose (empty namespace)", []string{b, "diagnose", "-n", ns, "--kubeconfig", kubeconfig}})
		}
	}
	if err := initProfile(bins, runs); err != nil {
		return err
	}
	times, err := measure(cmds, runs)
	if err != nil {
		return err
	}
	fmt.Printf("%-55s %12s %12s %12s\n", "command", "wall median", "wall best", "CPU median")
	for i, c := range cmds {
		wall, cpu := times[i].wall, times[i].cpu
		fmt.Printf("%-55s %12s %12s %12s\n", c.name, median(wall), wall[0].Round(100*time.Microsecond), median(cpu))
	}
	return nil
}

// timings are one command's sorted wall and CPU times.
type timings struct{ wall, cpu []time.Duration }

// measure runs every command 3 times to warm the page cache, then runs
// times. The commands take turns (one run of each, then the next round), so
// that other work on a shared machine weighs on all of them alike rather
// than on whichever ran while it peaked.
func measure(cmds []command, runs int) ([]timings, error) {
	out := make([]timings, len(cmds))
	for round := range runs + 3 {
		for i, c := range cmds {
			cmd := exec.Command(c.argv[0], c.argv[1:]...)
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			if ee := (*exec.ExitError)(nil); err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 4) {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			if round < 3 {
				continue
			}
			out[i].wall = append(out[i].wall, took)
			out[i].cpu = append(out[i].cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
	}
	for _, t := range out {
		slices.Sort(t.wall)
		slices.Sort(t.cpu)
	}
	return out, nil
}

func median(d []time.Duration) time.Duration {
	return d[len(d)/2].Round(100 * time.Microsecond)
}

// initTrace is what GODEBUG=inittrace=1 reports for one binary over many
// runs: per package, the time of each run and the allocations.
type initTrace struct {
	ms     map[string][]float64
	allocs map[string]int
	totals []float64
}

// allocations is the number of heap allocations of all packages'
// initialisation: unlike the times, it does not depend on load.
func (t initTrace) allocations() int {
	n := 0
	for _, a := range t.allocs {
		n += a
	}
	return n
}

// initProfile runs each of bins with `--help` and GODEBUG=inittrace=1 runs
// times, taking turns as measure does, and prints side by side the median
// time of all package initialisation, the packages that take longest
// (median per package) and those of this module. Init runs for every
// package linked into a binary whatever the command, so this is the floor
// no command can go below.
func initProfile(bins []string, runs int) error {
	traces := make([]initTrace, len(bins))
	for i := range traces {
		traces[i] = initTrace{ms: map[string][]float64{}, allocs: map[string]int{}}
	}
	for range runs {
		for i, bin := range bins {
			if err := traces[i].add(bin); err != nil {
				return err
			}
		}
	}
	med := func(v []float64) float64 {
		if len(v) == 0 {
			return 0
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	// Rank packages by their slowest median in any binary, so a package the
	// baseline has and this build dropped still shows.
	rank := map[string]float64{}
	for _, t := range traces {
		for name, v := range t.ms {
			rank[name] = max(rank[name], med(v))
		}
	}
	names := slices.Collect(maps.Keys(rank))
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(rank[b], rank[a]), strings.Compare(a, b)) })

	fmt.Printf("package initialisation (GODEBUG=inittrace=1 BIN --help), median of %d runs: ms (allocations)\n", runs)
	for i, bin := range bins {
		fmt.Printf("  [%d] %s\n", i+1, bin)
	}
	row := func(label string, cell func(t initTrace) string) {
		fmt.Printf("  %-70s", label)
		for _, t := range traces {
			fmt.Printf(" %18s", cell(t))
		}
		fmt.Println()
	}
	row("", func(initTrace) string { return "" })
	row("all packages", func(t initTrace) string { return fmt.Sprintf("%.1f (%d)", med(t.totals), t.allocations()) })
	row("packages linked", func(t initTrace) string { return strconv.Itoa(len(t.ms)) })
	const module = "github.com/opsagent/opsagent/"
	row("this module's packages", func(t initTrace) string {
		sum := 0.0
		for name, v := range t.ms {
			if strings.HasPrefix(name, module) {
				sum += med(v)
			}
		}
		return fmt.Sprintf("%.2f", sum)
	})
	for i, name := range names {
		if i >= 15 && !(strings.HasPrefix(name, module) && rank[name] >= 0.01) {
			continue
		}
		row(name, func(t initTrace) string {
			v, ok := t.ms[name]
			if !ok {
				return "not linked"
			}
			return fmt.Sprintf("%.2f (%d)", med(v), t.allocs[name])
		})
	}
	fmt.Println()
	return nil
}

// add runs `bin --help` once with GODEBUG=inittrace=1 and records its lines:
//
//	init PKG @0.5 ms, 1.2 ms clock, 4096 bytes, 12 allocs
func (t *initTrace) add(bin string) error {
	cmd := exec.Command(bin, "--help")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s --help: %w", bin, err)
	}
	total := 0.0
	for line := range strings.Lines(stderr.String()) {
		f := strings.Fields(line)
		if len(f) < 10 || f[0] != "init" {
			continue
		}
		ms, err1 := strconv.ParseFloat(f[4], 64)
		allocs, err2 := strconv.Atoi(f[9])
		if err1 != nil || err2 != nil {
			continue
		}
		t.ms[f[1]] = append(t.ms[f[1]], ms)
		t.allocs[f[1]] = allocs
		total += ms
	}
	t.totals = append(t.totals, total)
	return nil
}

// buildHello builds the reference Go program in a temporary folder.
func buildHello() (string, error) {
	dir, err := os.MkdirTemp("", "startup-bench-")
	if err != nil {
		return "", err
	}
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"), 0o600); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Env = append(os.Environ(), "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build hello-world: %w: %s", err, out)
	}
	return bin, nil
}

// buildFloor builds bench/startup/floor into dir as hack/release.sh builds
// opsagent: static, trimmed, stripped.
func buildFloor(dir string) (string, error) {
	bin := filepath.Join(dir, "floor")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "github.com/opsagent/opsagent/bench/startup/floor")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the client-go floor: %w: %s", err, out)
	}
	return bin, nil
}

// emptyNamespace creates a namespace with nothing in it and returns a
// function that deletes it.
func emptyNamespace(kubeconfig string) (string, func(), error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return "", nil, err
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", nil, err
	}
	ctx := context.Background()
	ns, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "startup-bench-"}}, metav1.CreateOptions{})
	if err != nil {
		return "", nil, fmt.Errorf("create the empty namespace: %w", err)
	}
	return ns.Name, func() {
		_ = c.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
	}, nil
}

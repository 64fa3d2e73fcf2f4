// Command startup-bench measures how long opsagent takes to start: wall
// time and CPU time (user + system, from the kernel's rusage of the child)
// of commands run as a user runs them, each against reference commands in
// the same run:
//
//   - a hello-world Go binary (the floor of any Go program here), built by
//     the benchmark itself;
//   - `kubectl version --client`, when kubectl is on PATH;
//   - any other opsagent build given with -baseline (e.g. the last commit's).
//
// It is a program, not a test: timings on a shared machine belong beside
// their baseline, not in an assertion. Usage:
//
//	go build -o /tmp/opsagent ./cmd/opsagent
//	go run ./bench/startup -opsagent /tmp/opsagent -baseline /tmp/opsagent-old \
//	    -kubeconfig ~/.local/state/opsagent/sandbox/default/kubeconfig -runs 40
//
// With -kubeconfig it also times `diagnose -n NS` of an empty namespace it
// creates (and deletes afterwards). CPU time is the steadier figure when
// other work shares the machine: wall time includes waiting for a core.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
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
	for _, b := range bins {
		if err := initProfile(b, runs); err != nil {
			return err
		}
	}
	fmt.Printf("%-55s %12s %12s %12s\n", "command", "wall median", "wall best", "CPU median")
	for _, c := range cmds {
		wall, cpu, err := measure(c.argv, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Printf("%-55s %12s %12s %12s\n", c.name, median(wall), wall[0].Round(100*time.Microsecond), median(cpu))
	}
	return nil
}

// measure runs argv 3 times to warm the page cache, then runs times; it
// returns the sorted wall and CPU times.
func measure(argv []string, runs int) (wall, cpu []time.Duration, err error) {
	for i := range runs + 3 {
		cmd := exec.Command(argv[0], argv[1:]...)
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		if ee := (*exec.ExitError)(nil); err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 4) {
			return nil, nil, err
		}
		if i < 3 {
			continue
		}
		wall = append(wall, took)
		cpu = append(cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	slices.Sort(wall)
	slices.Sort(cpu)
	return wall, cpu, nil
}

func median(d []time.Duration) time.Duration {
	return d[len(d)/2].Round(100 * time.Microsecond)
}

// initProfile runs `bin --help` with GODEBUG=inittrace=1 runs times and
// prints the median time of all package initialisation, the packages that
// take longest (median per package), and those of this module. Init runs
// for every package linked into the binary whatever the command, so this is
// the floor no command can go below.
func initProfile(bin string, runs int) error {
	perPkg := map[string][]float64{}
	bytesOf := map[string]int{}
	var totals []float64
	for range runs {
		cmd := exec.Command(bin, "--help")
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s --help: %w", bin, err)
		}
		total := 0.0
		// init PKG @0.5 ms, 1.2 ms clock, 4096 bytes, 12 allocs
		for line := range strings.Lines(stderr.String()) {
			f := strings.Fields(line)
			if len(f) < 10 || f[0] != "init" {
				continue
			}
			ms, err1 := strconv.ParseFloat(f[4], 64)
			b, err2 := strconv.Atoi(f[7])
			if err1 != nil || err2 != nil {
				continue
			}
			perPkg[f[1]] = append(perPkg[f[1]], ms)
			bytesOf[f[1]] = b
			total += ms
		}
		totals = append(totals, total)
	}
	med := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	type pkg struct {
		name string
		ms   float64
	}
	var pkgs []pkg
	for name, v := range perPkg {
		pkgs = append(pkgs, pkg{name, med(v)})
	}
	slices.SortFunc(pkgs, func(a, b pkg) int { return cmp.Compare(b.ms, a.ms) })
	fmt.Printf("%s: package initialisation, median of %d runs: %.1f ms over %d packages\n", bin, runs, med(totals), len(pkgs))
	const module = "github.com/opsagent/opsagent/"
	for i, p := range pkgs {
		if i < 12 || strings.HasPrefix(p.name, module) && p.ms >= 0.01 {
			fmt.Printf("  %7.2f ms %9d B  %s\n", p.ms, bytesOf[p.name], p.name)
		}
	}
	fmt.Println()
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

package sandbox

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The sandbox starts its volume provisioner as a child process. In these
// tests the child is this test binary, re-executed with this variable set.
const provisionerEnv = "OPSAGENT_TEST_RUN_PROVISIONER"

func TestMain(m *testing.M) {
	if os.Getenv(provisionerEnv) == "1" {
		fs := flag.NewFlagSet("provisioner", flag.ExitOnError)
		kubeconfig := fs.String("kubeconfig", "", "")
		volumes := fs.String("volumes", "", "")
		_ = fs.Parse(os.Args[1:])
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		if err := RunProvisioner(ctx, *kubeconfig, *volumes); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// needBinaries fails in CI (make test builds them) and skips elsewhere.
func needBinaries(t *testing.T) {
	t.Helper()
	if err := checkBinaries(DefaultBinDir()); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

func testConfig(t *testing.T, name string) Config {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Name: name,
		// Short paths: unix socket paths used by etcd must stay short.
		StateDir:           filepath.Join(t.TempDir(), name),
		ProvisionerCommand: []string{exe},
		ProvisionerEnv:     []string{provisionerEnv + "=1"},
		Timeout:            90 * time.Second,
	}
}

// TestUpDownCycle starts a second sandbox next to the one the suite runs on,
// checks it is healthy, stops it, checks nothing of it is left, and starts it
// again from its kept data.
func TestUpDownCycle(t *testing.T) {
	needBinaries(t)
	ctx := context.Background()
	cfg := testConfig(t, "cycle")
	// Made with two nodes, restarted with the default one: the second node
	// is still there and must follow kwok to its new port.
	cfg.Nodes = 2

	for round := 1; round <= 2; round++ {
		start := time.Now()
		st, err := Up(ctx, cfg)
		if err != nil {
			t.Fatalf("round %d: up: %v", round, err)
		}
		t.Cleanup(func() { _ = Down(context.Background(), cfg.StateDir, true) })
		t.Logf("round %d: ready in %s (API %s)", round, time.Since(start).Round(time.Millisecond), st.Server)

		rep, err := Status(ctx, cfg.StateDir)
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		if !rep.Healthy {
			t.Fatalf("round %d: sandbox not healthy: %+v", round, rep)
		}
		if len(rep.Components) != 7 {
			t.Errorf("want 7 components (metrics-server included), got %d", len(rep.Components))
		}

		// A pod made in round 1 must still be there in round 2, and its logs
		// readable although kwok now listens on another port.
		checkPodAndLogs(t, st.Kubeconfig, round == 1)
		checkNodePorts(t, st, 2)

		if _, err := Up(ctx, cfg); !errors.Is(err, ErrAlreadyRunning) {
			t.Errorf("second up while running: want ErrAlreadyRunning, got %v", err)
		}

		procs := st.Processes
		if err := Down(ctx, cfg.StateDir, false); err != nil {
			t.Fatalf("down: %v", err)
		}
		for _, p := range procs {
			if p.alive() {
				t.Errorf("round %d: %s (pid %d) still runs after down", round, p.Name, p.PID)
			}
		}
		if b := st.Ports.bound(); len(b) > 0 {
			t.Errorf("round %d: ports still bound after down: %v", round, b)
		}
		if _, err := Status(ctx, cfg.StateDir); !errors.Is(err, ErrNotRunning) {
			t.Errorf("status after down: want ErrNotRunning, got %v", err)
		}
		// Give the next round fresh ports and the default node count; the
		// kept data must not care.
		cfg.Ports = Ports{}
		cfg.Nodes = 0
	}
}

func TestStatusReportsCrashedComponent(t *testing.T) {
	needBinaries(t)
	ctx := context.Background()
	cfg := testConfig(t, "crash")
	st, err := Up(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Down(context.Background(), cfg.StateDir, true) })
	var sched *process
	for _, p := range st.Processes {
		if p.Name == "kube-scheduler" {
			sched = p
		}
	}
	if err := sched.stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	rep, err := Status(ctx, cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Healthy {
		t.Fatal("status says healthy with the scheduler killed")
	}
	for _, c := range rep.Components {
		if c.Name == "kube-scheduler" && (c.Running || c.Detail == "") {
			t.Errorf("scheduler reported as %+v, want not running with a detail", c)
		}
		if c.Name == "kube-apiserver" && !c.Healthy {
			t.Errorf("apiserver should still be healthy: %+v", c)
		}
	}
}

func TestUpRefusesBadInput(t *testing.T) {
	ctx := context.Background()

	t.Run("missing binaries", func(t *testing.T) {
		cfg := testConfig(t, "nobin")
		cfg.BinDir = t.TempDir()
		_, err := Up(ctx, cfg)
		if !errors.Is(err, ErrMissingBinary) {
			t.Fatalf("want ErrMissingBinary, got %v", err)
		}
		if _, statErr := os.Stat(stateFile(cfg.StateDir)); statErr == nil {
			t.Error("a state file was written although nothing started")
		}
	})

	t.Run("port in use", func(t *testing.T) {
		needBinaries(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = l.Close() }()
		port := l.Addr().(*net.TCPAddr).Port
		cfg := testConfig(t, "busy")
		cfg.Ports.APIServer = port
		_, err = Up(ctx, cfg)
		if !errors.Is(err, ErrPortInUse) {
			t.Fatalf("want ErrPortInUse, got %v", err)
		}
		if want := fmt.Sprint(port); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name port %s", err, want)
		}
	})

	t.Run("invalid node count", func(t *testing.T) {
		cfg := testConfig(t, "nodes")
		cfg.Nodes = -1
		if _, err := Up(ctx, cfg); err == nil {
			t.Fatal("want an error for -1 nodes")
		}
	})
}

func checkPodAndLogs(t *testing.T, kubeconfig string, create bool) {
	t.Helper()
	ctx := context.Background()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c := kubernetes.NewForConfigOrDie(cfg)
	if create {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "survivor"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
		}
		if _, err := c.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		var out []byte
		out, last = c.CoreV1().Pods("default").GetLogs("survivor", &corev1.PodLogOptions{}).DoRaw(ctx)
		if last == nil && strings.Contains(string(out), "container started") {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("logs of pod survivor not readable: %v", last)
}

// checkNodePorts checks that the sandbox has want nodes, all pointing at
// this run's kwok port, and that its state lists them.
func checkNodePorts(t *testing.T, st *State, want int) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", st.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := c.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != want || len(st.Nodes) != want {
		t.Errorf("%d nodes in the cluster, %d in the state; want %d", len(nodes.Items), len(st.Nodes), want)
	}
	for _, n := range nodes.Items {
		if got := int(n.Status.DaemonEndpoints.KubeletEndpoint.Port); got != st.Ports.Kwok {
			t.Errorf("node %s points at kubelet port %d, kwok listens on %d", n.Name, got, st.Ports.Kwok)
		}
	}
}

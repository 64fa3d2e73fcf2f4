// Package promtest runs a real Prometheus for tests: the server
// hack/prometheus.sh builds, scraping the test cluster's simulated kubelet
// metrics (the cAdvisor series kwok serves for every sandbox node).
package promtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/usage"
)

// Binary is the server hack/prometheus.sh builds: missing, the
// test fails under CI and skips elsewhere.
func Binary(t testing.TB) string {
	t.Helper()
	// The script sits three folders above this file, whichever package's
	// test calls it.
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "..", "hack", "prometheus.sh")
	out, err := exec.Command("bash", script, "--print").Output()
	if err != nil {
		t.Fatalf("hack/prometheus.sh --print: %v", err)
	}
	bin := strings.TrimSpace(string(out))
	if _, err := os.Stat(bin); err != nil {
		msg := "Prometheus is not built (" + bin + "): run `bash hack/prometheus.sh` (several minutes, once)"
		testcluster.SkipOrFail(t, msg)
	}
	return bin
}

// Start runs Prometheus until the test ends, scraping the resource metrics
// of every node that runs a pod of env's namespace (every node, if none
// does yet) where kwok serves them (the node's InternalIP,
// its kubelet port, the path of its metrics.k8s.io/resource-metrics-path
// annotation) every second over HTTPS, verified against the sandbox CA the
// kubeconfig trusts. It returns the server's URL once it is ready.
func Start(t testing.TB, bin string, env *testcluster.Env) string {
	t.Helper()
	dir := t.TempDir()
	ca := env.RESTConfig.CAData
	if len(ca) == 0 && env.RESTConfig.CAFile != "" {
		var err error
		if ca, err = os.ReadFile(env.RESTConfig.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	if len(ca) == 0 {
		t.Fatal("the test kubeconfig names no CA: kwok's serving certificate cannot be verified")
	}
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	nodes, err := env.Client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Only the nodes that run the test's pods, when it has some: other
	// tests add and remove nodes of their own while this one runs, and
	// their targets would only add series (or scrape errors) to the
	// answers this test checks.
	pods, err := env.Client.CoreV1().Pods(env.Namespace).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]bool{}
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" {
			hosts[p.Spec.NodeName] = true
		}
	}
	var targets strings.Builder
	for _, n := range nodes.Items {
		if len(hosts) > 0 && !hosts[n.Name] {
			continue
		}
		port := n.Status.DaemonEndpoints.KubeletEndpoint.Port
		path := n.Annotations["metrics.k8s.io/resource-metrics-path"]
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && port > 0 && path != "" {
				fmt.Fprintf(&targets, "  - targets: [%q]\n    labels: {__metrics_path__: %q, node: %q}\n",
					net.JoinHostPort(a.Address, strconv.Itoa(int(port))), path, n.Name)
			}
		}
	}
	if targets.Len() == 0 {
		t.Fatal("no node has an InternalIP, a kubelet port and a resource-metrics path to scrape")
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
- job_name: kubelet-resource
  scheme: https
  tls_config: {ca_file: %q}
  static_configs:
%s`, caFile, targets.String())
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
		_ = logFile.Close() // written by the child only, which has exited
		if t.Failed() {
			if log, err := os.ReadFile(logPath); err == nil {
				t.Logf("prometheus log:\n%s", log)
			}
		}
	})

	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited before it was ready: %v", err)
		default:
		}
		if ready(ctx, url) {
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus at %s not ready within 30s", url)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ready(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/-/ready", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close() // the status is the answer
	return resp.StatusCode == http.StatusOK
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	return addr
}

// WaitForSamples waits until Prometheus holds n samples of one container
// in the query's namespace (one a second), and returns what it reports.
func WaitForSamples(t testing.TB, url string, q usage.PromQuery, n int) *usage.PromUsage {
	t.Helper()
	client, err := usage.NewPromClient(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		u, err := client.Fetch(context.Background(), q)
		if err != nil {
			t.Fatalf("fetch from the real Prometheus: %v", err)
		}
		for _, s := range u.Containers {
			if s.Samples >= n {
				return u
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus at %s has not scraped %d samples of a container in %s within 2m: %+v", url, n, q.Namespace, u.Containers)
		}
		time.Sleep(2 * time.Second)
	}
}

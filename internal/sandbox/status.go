package sandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ComponentStatus is the health of one sandbox process.
type ComponentStatus struct {
	Name    string `json:"name"`
	PID     int    `json:"pid"`
	Running bool   `json:"running"`
	// Healthy is the component's own health endpoint (or, for the
	// provisioner, which has none, whether it runs).
	Healthy bool   `json:"healthy"`
	Detail  string `json:"detail,omitempty"`
	Log     string `json:"log"`
}

// NodeStatus is one fake node.
type NodeStatus struct {
	Name  string `json:"name"`
	Ready bool   `json:"ready"`
}

// Report is the answer of Status.
type Report struct {
	Name       string            `json:"name"`
	Kubeconfig string            `json:"kubeconfig"`
	Context    string            `json:"context"`
	Server     string            `json:"server"`
	StartedAt  time.Time         `json:"startedAt"`
	Components []ComponentStatus `json:"components"`
	Nodes      []NodeStatus      `json:"nodes"`
	// Healthy is true when every component is healthy and every node Ready.
	Healthy bool `json:"healthy"`
}

// Status checks each component of the sandbox in dir.
func Status(ctx context.Context, dir string) (*Report, error) {
	st, err := LoadState(dir)
	if err != nil {
		return nil, err
	}
	r := &Report{Name: st.Name, Kubeconfig: st.Kubeconfig, Context: st.Context, Server: st.Server, StartedAt: st.StartedAt, Healthy: true}
	p := pki{dir: filepath.Join(dir, "pki")}
	admin := adminTLSFrom(p)
	// The controller-manager and scheduler serve with self-signed
	// certificates; only liveness matters here, not their identity.
	selfSigned := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback health probe of our own child

	for _, proc := range st.Processes {
		cs := ComponentStatus{Name: proc.Name, PID: proc.PID, Running: proc.alive(), Log: proc.Log}
		switch {
		case !cs.Running:
			cs.Detail = "not running (crashed or killed); see its log"
		default:
			var url string
			var tlsCfg *tls.Config
			switch proc.Name {
			case "etcd":
				url = fmt.Sprintf("http://127.0.0.1:%d/health", st.Ports.EtcdClient)
			case "kube-apiserver":
				url, tlsCfg = st.Server+"/readyz", admin
			case "kube-controller-manager":
				url, tlsCfg = fmt.Sprintf("https://127.0.0.1:%d/healthz", st.Ports.ControllerManager), selfSigned
			case "kube-scheduler":
				url, tlsCfg = fmt.Sprintf("https://127.0.0.1:%d/healthz", st.Ports.Scheduler), selfSigned
			case "kwok":
				url, tlsCfg = fmt.Sprintf("https://127.0.0.1:%d/healthz", st.Ports.Kwok), selfSigned
			case metricsServerName:
				url, tlsCfg = fmt.Sprintf("https://127.0.0.1:%d/livez", st.Ports.MetricsServer), admin
			}
			if url == "" {
				cs.Healthy = true
				break
			}
			if err := probe(ctx, url, tlsCfg); err != nil {
				cs.Detail = err.Error()
			} else {
				cs.Healthy = true
			}
		}
		if !cs.Healthy {
			r.Healthy = false
		}
		r.Components = append(r.Components, cs)
	}

	b, err := newBootstrapper(st.Kubeconfig)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		list, err := b.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, n := range list.Items {
				ns := NodeStatus{Name: n.Name, Ready: nodeReady(&n)}
				if !ns.Ready {
					r.Healthy = false
				}
				r.Nodes = append(r.Nodes, ns)
			}
		}
	}
	if len(r.Nodes) == 0 {
		r.Healthy = false
	}
	if b != nil {
		for i := range r.Components {
			if cs := &r.Components[i]; cs.Name == metricsServerName && cs.Healthy {
				cs.Detail = b.metricsAPIState(ctx)
			}
		}
	}
	return r, nil
}

// metricsAPIAvailable is metricsAPIState's answer when the API is served.
const metricsAPIAvailable = "metrics API available"

// metricsAPIState says whether the API server serves the metrics API through
// metrics-server: it is not Available until metrics-server answers it, and
// pods show usage only after two scrapes.
func (b *bootstrapper) metricsAPIState(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	obj, err := b.dynamic.Resource(apiServiceGVR).Get(ctx, metricsAPIService, metav1.GetOptions{})
	if err != nil {
		return "cannot read APIService " + metricsAPIService + ": " + err.Error()
	}
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Available" {
			continue
		}
		if m["status"] == "True" {
			return metricsAPIAvailable
		}
		return fmt.Sprintf("metrics API not available yet: %v", m["message"])
	}
	return "metrics API not available yet"
}

func adminTLSFrom(p pki) *tls.Config {
	caPEM, err := os.ReadFile(p.path("ca.crt"))
	if err != nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.LoadX509KeyPair(p.path("admin.crt"), p.path("admin.key"))
	if err != nil {
		return nil
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

func probe(ctx context.Context, url string, tlsCfg *tls.Config) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health check failed: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // the status code is the answer
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check %s answered %s", url, resp.Status)
	}
	return nil
}

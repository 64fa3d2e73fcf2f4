package release

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/kube"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/opsagent/opsagent/charts"
)

const testNamespace = "todo"

// fakeKube is Helm's printing fake client with switchable failures.
type fakeKube struct {
	kubefake.PrintingKubeClient
	mu          sync.Mutex
	unreachable error
	// waitFailures makes that many Wait calls fail, then Wait succeeds.
	waitFailures int
}

var _ kube.Interface = (*fakeKube)(nil)

func (f *fakeKube) IsReachable() error { return f.unreachable }

func (f *fakeKube) Wait(resources kube.ResourceList, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.waitFailures > 0 {
		f.waitFailures--
		return errors.New("resource Deployment/todo/todo-chatbot-backend not ready. status: InProgress, message: Available: 0/1: context deadline exceeded")
	}
	return nil
}

// newTestClient returns a Client on Helm's in-memory release storage and a
// fake cluster that accepts everything, plus the fake to inject failures.
func newTestClient(t *testing.T) (*Client, *fakeKube) {
	t.Helper()
	mem := driver.NewMemory()
	mem.SetNamespace(testNamespace)
	kc := &fakeKube{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard}}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"}
	cfg := &action.Configuration{
		Releases:     storage.Init(mem),
		KubeClient:   kc,
		Capabilities: caps,
		Log:          func(string, ...any) {},
	}
	return newWithConfig(cfg, testNamespace, charts.TodoChatbot), kc
}

// newWithConfig wraps a ready Configuration instead of building one from a
// cluster.
func newWithConfig(cfg *action.Configuration, namespace string, loadChart func() (*chart.Chart, error)) *Client {
	c := &Client{namespace: namespace, cfg: cfg, loadChart: loadChart, log: slog.New(slog.DiscardHandler),
		restMapper: func() (meta.RESTMapper, error) { return testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme), nil }}
	c.newConfig = func(string) (*action.Configuration, error) { return cfg, nil }
	return c
}

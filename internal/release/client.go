// Package release installs, upgrades, inspects, rolls back and removes Helm
// releases through Helm's Go SDK (helm.sh/helm/v3/pkg/action); it never runs
// the helm binary. Each operation takes a typed options struct and returns a
// small typed result that serialises well to JSON, and failures carry a
// sentinel error plus a hint on what to do next (see Error).
package release

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/kube"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/opsagent/opsagent/charts"
)

const (
	// DefaultReleaseName is the release an operation targets when none is given.
	DefaultReleaseName = charts.TodoChatbotName
	// DefaultTimeout bounds waits when the caller sets no timeout, as helm does.
	DefaultTimeout = 5 * time.Minute
	// storageDriver keeps release records in Secrets, Helm 3's default, so
	// the helm CLI sees the same releases.
	storageDriver = "secret"
	// maxHistory caps the revisions kept per release, like `helm upgrade
	// --history-max 10`, so release Secrets do not pile up in the namespace.
	maxHistory = 10
)

// Client runs Helm actions in one namespace of one cluster. It is safe to use
// for one operation at a time; Helm's Configuration is not meant to be shared
// by concurrent actions.
type Client struct {
	namespace string
	cfg       *action.Configuration
	log       *slog.Logger
	// newConfig builds a Configuration for another namespace ("" = all), for
	// List across namespaces.
	newConfig func(namespace string) (*action.Configuration, error)
	// loadChart supplies the chart when an operation names none.
	loadChart func() (*chart.Chart, error)
	// restMapper tells namespaced kinds from cluster-scoped ones (see
	// resources.go).
	restMapper func() (meta.RESTMapper, error)
}

// Option customises a Client.
type Option func(*Client)

// WithLogger sends Helm's progress messages to l, at debug level. Without it
// they go to a stderr logger that drops debug messages, so Helm stays quiet
// unless the caller asks for them (e.g. for a --debug flag).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) { c.log = l }
}

// New builds a Client for namespace of the cluster getter points at. An empty
// namespace means the getter's own (the kubeconfig context's, or -n).
func New(getter genericclioptions.RESTClientGetter, namespace string, opts ...Option) (*Client, error) {
	if namespace == "" {
		ns, _, err := getter.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return nil, fmt.Errorf("resolve namespace from kubeconfig: %w", err)
		}
		namespace = ns
	}
	c := &Client{
		namespace:  namespace,
		log:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		loadChart:  charts.TodoChatbot,
		restMapper: getter.ToRESTMapper,
	}
	for _, o := range opts {
		o(c)
	}
	c.newConfig = func(ns string) (*action.Configuration, error) {
		cfg := new(action.Configuration)
		if err := cfg.Init(getter, ns, storageDriver, c.helmLog); err != nil {
			return nil, fmt.Errorf("initialise helm for namespace %q: %w", ns, err)
		}
		// Helm's kube client puts objects that name no namespace in the
		// getter's namespace (the helm CLI sets that from -n), not in the
		// one given to Init: without this, a release stored in namespace
		// ns would create its objects in the kubeconfig's namespace.
		if kc, ok := cfg.KubeClient.(*kube.Client); ok && ns != "" {
			kc.Namespace = ns
		}
		return cfg, nil
	}
	cfg, err := c.newConfig(namespace)
	if err != nil {
		return nil, err
	}
	c.cfg = cfg
	return c, nil
}

// Namespace is the namespace the Client works in.
func (c *Client) Namespace() string { return c.namespace }

// helmLog adapts Helm's printf-style debug log to slog.
func (c *Client) helmLog(format string, v ...any) {
	c.log.Debug(fmt.Sprintf(format, v...), "component", "helm")
}

// chartOrDefault returns ch, or the embedded Todo Chatbot chart when nil.
func (c *Client) chartOrDefault(ch *chart.Chart) (*chart.Chart, error) {
	if ch != nil {
		return ch, nil
	}
	return c.loadChart()
}

// releaseName returns name, or DefaultReleaseName when empty.
func releaseName(name string) string {
	if name == "" {
		return DefaultReleaseName
	}
	return name
}

// timeout picks the wait budget for an action: the caller's timeout (or
// DefaultTimeout), cut short by ctx's deadline. Helm's v3 actions other than
// install and upgrade take no context, so the deadline is the only way to
// bound them.
func timeout(ctx context.Context, want time.Duration) time.Duration {
	if want <= 0 {
		want = DefaultTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < want {
			return max(left, time.Second)
		}
	}
	return want
}

// Package kube builds the Kubernetes clients every command shares, from the
// same flags kubectl takes (--kubeconfig, --context, -n, KUBECONFIG, ...).
package kube

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
)

// Client-side rate limits. client-go's defaults (5 QPS, burst 10) throttle
// silently once a command lists several kinds; diagnose lists about ten kinds
// at once and fetches logs in parallel, so allow a short burst.
const (
	DefaultQPS   = 50
	DefaultBurst = 100
)

// Clients are the clients for one kube context and its default namespace.
type Clients struct {
	// Getter is what Helm and other cli-runtime based code consume.
	Getter  genericclioptions.RESTClientGetter
	Config  *rest.Config
	Typed   kubernetes.Interface
	Dynamic dynamic.Interface
	// Metadata reads objects as metadata only (PartialObjectMetadata): for
	// lookups that need names, labels or owners, not specs.
	Metadata  metadata.Interface
	Mapper    meta.RESTMapper
	Namespace string
	// Context is the kubeconfig context name in use ("" if none, e.g. in-cluster).
	Context string
}

// NewClients resolves the kubeconfig the way kubectl does and builds clients.
func NewClients(getter genericclioptions.RESTClientGetter) (*Clients, error) {
	cfg, err := getter.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w (set --kubeconfig or KUBECONFIG, or start a local cluster with 'opsagent sandbox up')", err)
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS = DefaultQPS
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	raw := getter.ToRawKubeConfigLoader()
	ns, _, err := raw.Namespace()
	if err != nil {
		return nil, fmt.Errorf("resolve namespace from kubeconfig: %w", err)
	}
	var contextName string
	if rc, err := raw.RawConfig(); err == nil {
		contextName = rc.CurrentContext
		if cf, ok := getter.(*genericclioptions.ConfigFlags); ok && cf.Context != nil && *cf.Context != "" {
			contextName = *cf.Context
		}
	}
	c, err := ForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if c.Mapper, err = getter.ToRESTMapper(); err != nil {
		return nil, fmt.Errorf("build REST mapper: %w", err)
	}
	c.Getter, c.Namespace, c.Context = getter, ns, contextName
	return c, nil
}

// ForConfig builds the typed, dynamic and metadata clients over cfg, without
// a Getter, Mapper or namespace (NewClients and ForBearerToken add those);
// they make no request until used.
func ForConfig(cfg *rest.Config) (*Clients, error) {
	typed, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build clientset: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build dynamic client: %w", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build metadata client: %w", err)
	}
	return &Clients{Config: cfg, Typed: typed, Dynamic: dyn, Metadata: meta}, nil
}

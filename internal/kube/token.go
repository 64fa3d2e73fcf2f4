package kube

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ForBearerToken returns clients that act as the holder of token on the API
// server base points at. Every credential of base (client certificates, its
// own token, exec plugins, impersonation) is dropped and only its address and
// CA are kept, so the cluster's authentication and RBAC judge the caller,
// never the process that serves them. namespace is the caller's default.
//
// mapper may be shared between callers (discovery is readable by every
// authenticated user and the same for all); nil builds one for this caller.
func ForBearerToken(base *rest.Config, token, namespace string, mapper meta.RESTMapper) (*Clients, error) {
	if token == "" {
		return nil, errors.New("no bearer token: the caller's Kubernetes token is required")
	}
	if namespace == "" {
		namespace = "default"
	}
	cfg := rest.AnonymousClientConfig(base)
	cfg.BearerToken = token
	if cfg.QPS == 0 {
		cfg.QPS = DefaultQPS
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	getter := &configGetter{cfg: cfg, namespace: namespace}
	if mapper == nil {
		var err error
		if mapper, err = getter.ToRESTMapper(); err != nil {
			return nil, err
		}
	}
	getter.mapper = mapper
	c, err := ForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c.Getter, c.Mapper, c.Namespace = getter, mapper, namespace
	return c, nil
}

// NewMapper returns a lazily filled, cached REST mapper for cfg's server.
func NewMapper(cfg *rest.Config) (meta.RESTMapper, error) {
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(disc)
	return restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(cached), cached, nil), nil
}

// configGetter is a RESTClientGetter (what Helm consumes) built from a REST
// config rather than a kubeconfig file.
type configGetter struct {
	cfg       *rest.Config
	namespace string
	mapper    meta.RESTMapper
}

func (g *configGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *configGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	disc, err := discovery.NewDiscoveryClientForConfig(g.cfg)
	if err != nil {
		return nil, fmt.Errorf("build discovery client: %w", err)
	}
	return memory.NewMemCacheClient(disc), nil
}

func (g *configGetter) ToRESTMapper() (meta.RESTMapper, error) {
	if g.mapper != nil {
		return g.mapper, nil
	}
	return NewMapper(g.cfg)
}

// ToRawKubeConfigLoader describes the same server, token and namespace as an
// in-memory kubeconfig: Helm reads the namespace from it.
func (g *configGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	const name = "caller"
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{
		Server:                   g.cfg.Host,
		CertificateAuthority:     g.cfg.CAFile,
		CertificateAuthorityData: g.cfg.CAData,
		InsecureSkipTLSVerify:    g.cfg.Insecure,
		TLSServerName:            g.cfg.ServerName,
	}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: g.cfg.BearerToken}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: g.namespace}
	kc.CurrentContext = name
	return clientcmd.NewDefaultClientConfig(*kc, &clientcmd.ConfigOverrides{})
}

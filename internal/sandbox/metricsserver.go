package sandbox

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// This file runs metrics-server against kwok, so the sandbox serves the
// metrics.k8s.io API (`kubectl top`, `opsagent top`, HPAs on CPU):
//
//   - kwok serves each fake node's kubelet /metrics/resource at
//     /metrics/nodes/<node>/metrics/resource (usage/metrics-resource.yaml),
//     with container usage computed from pod annotations
//     (usage/usage-from-annotations.yaml); each node's
//     metrics.k8s.io/resource-metrics-path annotation tells metrics-server
//     that path, and the node status carries kwok's port;
//   - metrics-server runs as a process on 127.0.0.1 with its own identity
//     and RBAC, verifying kwok's serving certificate against the sandbox CA;
//   - the API server reaches it through the APIService v1beta1.metrics.k8s.io
//     and an ExternalName Service kube-system/metrics-server pointing at
//     127.0.0.1 (the sandbox has no Service network), authenticating itself
//     with the front-proxy client certificate.

// Annotations that drive the simulated usage of a pod's containers
// (docs/sandbox.md). Values are Kubernetes quantities; the period is in
// seconds.
const (
	SimCPUAnnotation        = "opsagent.dev/sim-cpu"
	SimMemoryAnnotation     = "opsagent.dev/sim-memory"
	SimCPUPeakAnnotation    = "opsagent.dev/sim-cpu-peak"
	SimMemoryPeakAnnotation = "opsagent.dev/sim-memory-peak"
	SimPeriodAnnotation     = "opsagent.dev/sim-period"
)

// resourceMetricsPathAnnotation is where metrics-server reads a node's
// resource-metrics path when it is not the kubelet's /metrics/resource.
const resourceMetricsPathAnnotation = "metrics.k8s.io/resource-metrics-path"

func resourceMetricsPath(node string) string {
	return "/metrics/nodes/" + node + "/metrics/resource"
}

// metricsResolution is how often metrics-server scrapes (its minimum). CPU
// is a rate of two scrapes, so a new pod shows usage after about twice this.
const metricsResolution = "10s"

// Names of the metrics-server objects, as the upstream manifests name them.
const (
	metricsServerName    = "metrics-server"
	metricsServerUser    = "system:metrics-server"
	metricsAPIService    = "v1beta1.metrics.k8s.io"
	frontProxyClientName = "front-proxy-client"
)

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// ensureMetricsServerPKI issues, with the sandbox CA, the certificates
// metrics-server needs that a sandbox created before it ran lacks: its
// client identity, its serving certificate (the API server verifies it as
// metrics-server.kube-system.svc) and the API server's front-proxy client.
//
// The front-proxy client is signed by the cluster CA rather than a CA of its
// own: the API server accepts identity headers only from a certificate with
// that common name (--requestheader-allowed-names), and only this code
// issues certificates from the CA.
func ensureMetricsServerPKI(p pki) error {
	want := []struct {
		name string
		tmpl *x509.Certificate
	}{
		{metricsServerName, &x509.Certificate{
			Subject:     pkix.Name{CommonName: metricsServerUser},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}},
		{metricsServerName + "-serving", &x509.Certificate{
			Subject:     pkix.Name{CommonName: metricsServerName},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			DNSNames: []string{"localhost", "metrics-server.kube-system.svc",
				"metrics-server.kube-system.svc.cluster.local"},
		}},
		{frontProxyClientName, &x509.Certificate{
			Subject:     pkix.Name{CommonName: frontProxyClientName},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}},
	}
	var ca *x509.Certificate
	var caKey crypto.Signer
	for _, w := range want {
		if _, err := os.Stat(p.path(w.name + ".crt")); err == nil {
			continue
		}
		if ca == nil {
			var err error
			if ca, caKey, err = loadCA(p); err != nil {
				return err
			}
		}
		if err := issue(p, w.name, w.tmpl, ca, caKey); err != nil {
			return err
		}
	}
	return nil
}

// loadCA reads the sandbox CA and its key.
func loadCA(p pki) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(p.path("ca.crt"))
	if err != nil {
		return nil, nil, fmt.Errorf("read the sandbox CA: %w", err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, nil, fmt.Errorf("read the sandbox CA: %s holds no PEM certificate", p.path("ca.crt"))
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("read the sandbox CA: %w", err)
	}
	keyPEM, err := os.ReadFile(p.path("ca.key"))
	if err != nil {
		return nil, nil, fmt.Errorf("read the sandbox CA key: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, nil, fmt.Errorf("read the sandbox CA key: %s holds no PEM key", p.path("ca.key"))
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("read the sandbox CA key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("read the sandbox CA key: not a signing key")
	}
	return ca, signer, nil
}

// frontProxyArgs are the API server's flags for proxying to aggregated APIs
// with the caller's identity in request headers.
func frontProxyArgs(p pki) []string {
	return []string{
		"--proxy-client-cert-file=" + p.path(frontProxyClientName+".crt"),
		"--proxy-client-key-file=" + p.path(frontProxyClientName+".key"),
		"--requestheader-client-ca-file=" + p.path("ca.crt"),
		"--requestheader-allowed-names=" + frontProxyClientName,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
	}
}

// metricsServerArgs are metrics-server's flags: its kubeconfig for lists,
// token reviews and access reviews; kwok's serving certificate verified
// against the sandbox CA at the node's InternalIP and status port.
func (u *upper) metricsServerArgs() []string {
	kubeconfig := u.path("config", metricsServerName+".kubeconfig")
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(u.cfg.Ports.MetricsServer),
		"--tls-cert-file=" + u.pki.path(metricsServerName+"-serving.crt"),
		"--tls-private-key-file=" + u.pki.path(metricsServerName+"-serving.key"),
		"--kubelet-certificate-authority=" + u.pki.path("ca.crt"),
		"--kubelet-preferred-address-types=InternalIP,Hostname",
		"--kubelet-use-node-status-port",
		"--metric-resolution=" + metricsResolution,
		// Must stay below the resolution; kwok answers on loopback.
		"--kubelet-request-timeout=5s",
		"--profiling=false",
	}
}

// applyMetricsAPI creates metrics-server's RBAC (the upstream manifest's,
// bound to its certificate's user) and registers the metrics API at the
// port it listens on now; a restarted sandbox gets the new port.
func (b *bootstrapper) applyMetricsAPI(ctx context.Context, port int, caBundle []byte) error {
	rbac := b.client.RbacV1()
	user := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: metricsServerUser}}
	roles := []*rbacv1.ClusterRole{
		{
			ObjectMeta: metav1.ObjectMeta{Name: metricsServerUser},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"nodes/metrics"}, Verbs: []string{"get"}},
				{APIGroups: []string{""}, Resources: []string{"pods", "nodes"}, Verbs: []string{"get", "list", "watch"}},
			},
		},
		{
			// Whoever may view a namespace may read its usage.
			ObjectMeta: metav1.ObjectMeta{Name: "system:aggregated-metrics-reader", Labels: map[string]string{
				"rbac.authorization.k8s.io/aggregate-to-admin": "true",
				"rbac.authorization.k8s.io/aggregate-to-edit":  "true",
				"rbac.authorization.k8s.io/aggregate-to-view":  "true",
			}},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"metrics.k8s.io"}, Resources: []string{"pods", "nodes"}, Verbs: []string{"get", "list", "watch"}}},
		},
	}
	for _, r := range roles {
		if _, err := rbac.ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create ClusterRole %s: %w", r.Name, err)
		}
	}
	bindings := []*rbacv1.ClusterRoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Name: metricsServerUser}, Subjects: user,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: metricsServerUser}},
		{ObjectMeta: metav1.ObjectMeta{Name: "metrics-server:system:auth-delegator"}, Subjects: user,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:auth-delegator"}},
	}
	for _, rb := range bindings {
		if _, err := rbac.ClusterRoleBindings().Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create ClusterRoleBinding %s: %w", rb.Name, err)
		}
	}
	reader := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-server-auth-reader", Namespace: metav1.NamespaceSystem}, Subjects: user,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "extension-apiserver-authentication-reader"},
	}
	if _, err := rbac.RoleBindings(metav1.NamespaceSystem).Create(ctx, reader, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create RoleBinding kube-system/%s: %w", reader.Name, err)
	}

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: metricsServerName, Namespace: metav1.NamespaceSystem,
			Labels: map[string]string{"k8s-app": metricsServerName}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "127.0.0.1"},
	}
	if _, err := b.client.CoreV1().Services(metav1.NamespaceSystem).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create Service kube-system/%s: %w", metricsServerName, err)
	}

	spec := map[string]any{
		"group":                "metrics.k8s.io",
		"version":              "v1beta1",
		"groupPriorityMinimum": int64(100),
		"versionPriority":      int64(100),
		"caBundle":             base64.StdEncoding.EncodeToString(caBundle),
		"service":              map[string]any{"name": metricsServerName, "namespace": metav1.NamespaceSystem, "port": int64(port)},
	}
	apis := b.dynamic.Resource(apiServiceGVR)
	live, err := apis.Get(ctx, metricsAPIService, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiregistration.k8s.io/v1",
			"kind":       "APIService",
			"metadata":   map[string]any{"name": metricsAPIService, "labels": map[string]any{"k8s-app": metricsServerName}},
			"spec":       spec,
		}}
		if _, err := apis.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("register APIService %s: %w", metricsAPIService, err)
		}
	case err != nil:
		return fmt.Errorf("read APIService %s: %w", metricsAPIService, err)
	default:
		if err := unstructured.SetNestedField(live.Object, spec, "spec"); err != nil {
			return err
		}
		if _, err := apis.Update(ctx, live, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("point APIService %s at port %d: %w", metricsAPIService, port, err)
		}
	}
	return nil
}

package sandbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The kwok stages (pod and node lifecycles, failure simulation) and the CRDs
// kwok watches for per-pod logs.
//
//go:embed stages/*.yaml
var stageFiles embed.FS

//go:embed crds/*.yaml
var crdFiles embed.FS

// kwok's simulated kubelet resource metrics and the container usage they
// report, from pod annotations (metricsserver.go).
//
//go:embed usage/*.yaml
var usageFiles embed.FS

// Labels and annotations of the failure simulation (see docs/sandbox.md).
const (
	SimPodStateLabel  = "sim.opsagent.dev/state"
	SimNodeStateLabel = "sim.opsagent.dev/node-state"
)

// Values of SimPodStateLabel.
const (
	SimCrashLoopBackOff = "CrashLoopBackOff"
	SimOOMKilled        = "OOMKilled"
	SimImagePullBackOff = "ImagePullBackOff"
	SimError            = "Error"
	SimUnready          = "Unready"
)

var (
	crdGVR         = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	clusterLogsGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "clusterlogs"}
	// LogsGVR is kwok's per-pod logs resource: a Logs object named like a
	// pod, in its namespace, points kwok at the files to serve as its logs.
	LogsGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}
)

// writeStages writes kwok's configuration: the stages, then the usage
// simulation.
func writeStages(path string) (string, error) {
	var buf bytes.Buffer
	for _, src := range []struct {
		files   embed.FS
		pattern string
	}{{stageFiles, "stages/*.yaml"}, {usageFiles, "usage/*.yaml"}} {
		names, err := fs.Glob(src.files, src.pattern)
		if err != nil {
			return "", err
		}
		slices.Sort(names)
		for _, n := range names {
			data, err := src.files.ReadFile(n)
			if err != nil {
				return "", err
			}
			buf.WriteString("---\n")
			buf.Write(data)
			buf.WriteString("\n")
		}
	}
	return path, os.WriteFile(path, buf.Bytes(), 0o600)
}

type bootstrapper struct {
	client  kubernetes.Interface
	dynamic dynamic.Interface
}

func newBootstrapper(kubeconfig string) (*bootstrapper, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 100, 200
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &bootstrapper{client: c, dynamic: d}, nil
}

// apply creates the cluster-scoped objects that make the sandbox look like
// minikube. It is idempotent: a restarted sandbox keeps what exists.
func (b *bootstrapper) apply(ctx context.Context, u *upper) error {
	if err := b.applyCRDs(ctx); err != nil {
		return err
	}
	if err := b.defaultPodLogs(ctx, u.path("podlogs")); err != nil {
		return err
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	binding := storagev1.VolumeBindingImmediate
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "standard",
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
			Labels:      map[string]string{"addonmanager.kubernetes.io/mode": "EnsureExists"},
		},
		Provisioner:       ProvisionerName,
		ReclaimPolicy:     &reclaim,
		VolumeBindingMode: &binding,
	}
	if _, err := b.client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create StorageClass standard: %w", err)
	}
	ic := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "nginx",
			Annotations: map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"},
			Labels:      map[string]string{"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
		},
		Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"},
	}
	if _, err := b.client.NetworkingV1().IngressClasses().Create(ctx, ic, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create IngressClass nginx: %w", err)
	}
	for i, name := range u.st.Nodes {
		node, err := newNode(name, i == 0, u.cfg)
		if err != nil {
			return err
		}
		_, err = b.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		switch {
		case apierrors.IsAlreadyExists(err):
			if err := b.repointNode(ctx, name, u.cfg.Ports.Kwok); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("create node %s: %w", name, err)
		}
		if err := b.freeLease(ctx, name); err != nil {
			return err
		}
	}
	// A sandbox restarted with fewer --nodes than it was made with keeps
	// the others (they are in etcd, and kwok runs their pods): they need
	// the new port too, or their logs and metrics are out of reach.
	nodes, err := b.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes.Items {
		if slices.Contains(u.st.Nodes, n.Name) {
			continue
		}
		if err := b.repointNode(ctx, n.Name, u.cfg.Ports.Kwok); err != nil {
			return err
		}
		if err := b.freeLease(ctx, n.Name); err != nil {
			return err
		}
		u.st.Nodes = append(u.st.Nodes, n.Name)
	}
	return nil
}

// repointNode points a node made by an earlier run of the sandbox at this
// run's kwok: a restarted sandbox listens on new ports, and the API server
// (logs) and metrics-server reach a node's kubelet at the port its status
// carries.
func (b *bootstrapper) repointNode(ctx context.Context, name string, kwokPort int) error {
	patch := fmt.Sprintf(`{"status":{"daemonEndpoints":{"kubeletEndpoint":{"Port":%d}},"addresses":[{"type":"InternalIP","address":"127.0.0.1"},{"type":"Hostname","address":%q}]}}`, kwokPort, name)
	if _, err := b.client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("update node %s for the new kwok port: %w", name, err)
	}
	// A node created before the sandbox ran metrics-server lacks the path
	// of its simulated resource metrics.
	meta := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, resourceMetricsPathAnnotation, resourceMetricsPath(name))
	if _, err := b.client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, []byte(meta), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("annotate node %s with its metrics path: %w", name, err)
	}
	return nil
}

// freeLease deletes a node's lease: on a restart it is still held by the
// previous, dead kwok, and the new one would leave the node alone until the
// lease expired (40 s).
func (b *bootstrapper) freeLease(ctx context.Context, name string) error {
	err := b.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("release the lease of node %s: %w", name, err)
	}
	return nil
}

func (b *bootstrapper) applyCRDs(ctx context.Context) error {
	entries, err := fs.Glob(crdFiles, "crds/*.yaml")
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		data, err := crdFiles.ReadFile(e)
		if err != nil {
			return err
		}
		obj := &unstructured.Unstructured{}
		if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096).Decode(&obj.Object); err != nil && err != io.EOF {
			return fmt.Errorf("decode %s: %w", e, err)
		}
		names = append(names, obj.GetName())
		if _, err := b.dynamic.Resource(crdGVR).Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create CRD %s: %w", obj.GetName(), err)
		}
	}
	// kwok starts watching these at once; they must be served first.
	for _, n := range names {
		for {
			obj, err := b.dynamic.Resource(crdGVR).Get(ctx, n, metav1.GetOptions{})
			if err == nil && crdEstablished(obj) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("CRD %s not established: %w", n, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

func crdEstablished(obj *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// defaultPodLogs makes every pod's logs readable: a ClusterLogs object points
// kwok at a CRI-format file. Tests and demos override one pod's logs with a
// Logs object of the same name (see testcluster.SetPodLogs).
func (b *bootstrapper) defaultPodLogs(ctx context.Context, dir string) error {
	file := filepath.Join(dir, "default.log")
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	lines := []string{
		"container started (opsagent sandbox: kwok simulates this pod; no process runs)",
		"listening on 0.0.0.0",
		"ready",
	}
	var buf strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&buf, "%s stdout F %s\n", ts, l)
	}
	if err := os.WriteFile(file, []byte(buf.String()), 0o644); err != nil {
		return err
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1",
		"kind":       "ClusterLogs",
		"metadata":   map[string]any{"name": "opsagent-default"},
		"spec": map[string]any{
			"selector": map[string]any{},
			"logs":     []any{map[string]any{"logsFile": file, "follow": false}},
		},
	}}
	_, err := b.dynamic.Resource(clusterLogsGVR).Create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create default ClusterLogs: %w", err)
	}
	return nil
}

// newNode returns a fake node labelled the way minikube labels its nodes.
func newNode(name string, primary bool, cfg Config) (*corev1.Node, error) {
	capacity := corev1.ResourceList{}
	for res, val := range map[corev1.ResourceName]string{
		corev1.ResourceCPU: cfg.NodeCPU, corev1.ResourceMemory: cfg.NodeMemory,
		corev1.ResourcePods: cfg.NodePods, corev1.ResourceEphemeralStorage: "100Gi",
	} {
		q, err := resource.ParseQuantity(val)
		if err != nil {
			return nil, fmt.Errorf("node %s: invalid %s capacity %q: %w", name, res, val, err)
		}
		capacity[res] = q
	}
	labels := map[string]string{
		"beta.kubernetes.io/arch":    "amd64",
		"beta.kubernetes.io/os":      "linux",
		"kubernetes.io/arch":         "amd64",
		"kubernetes.io/hostname":     name,
		"kubernetes.io/os":           "linux",
		"minikube.k8s.io/name":       "minikube",
		"minikube.k8s.io/primary":    fmt.Sprint(primary),
		"minikube.k8s.io/version":    "v1.37.0",
		"opsagent.dev/sandbox":       cfg.Name,
		"topology.hostpath.csi/node": name,
	}
	if primary {
		labels["node-role.kubernetes.io/control-plane"] = ""
		labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: labels,
			Annotations: map[string]string{
				"kwok.x-k8s.io/node":           "fake",
				"node.alpha.kubernetes.io/ttl": "0",
				resourceMetricsPathAnnotation:  resourceMetricsPath(name),
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			NodeInfo: corev1.NodeSystemInfo{
				Architecture: "amd64", OperatingSystem: "linux", OSImage: "opsagent sandbox (kwok)",
				KubeletVersion: KubernetesVersion,
			},
		},
	}, nil
}

// healthCheck is a component's health endpoint.
type healthCheck struct {
	proc *process
	url  string
	tls  *tls.Config
}

// waitReady waits until every component answers its health check, kwok holds
// each node's lease and reports it Ready (a restarted sandbox still shows the
// old Ready condition, so the lease proves kwok took over), and the default
// ServiceAccount exists (pods are refused before it does). It fails fast if a
// component dies.
func (b *bootstrapper) waitReady(ctx context.Context, nodes []string, procs []*process, checks []healthCheck) error {
	pending := slices.Clone(checks)
	for {
		for _, p := range procs {
			if p.hasExited() {
				return componentFailed(p, "while waiting for the cluster to become ready")
			}
		}
		pending = slices.DeleteFunc(pending, func(c healthCheck) bool {
			return probe(ctx, c.url, c.tls) == nil
		})
		ready, notReady := 0, ""
		if len(pending) == 0 {
			list, err := b.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "opsagent.dev/sandbox"})
			if err == nil {
				for _, n := range list.Items {
					if !slices.Contains(nodes, n.Name) {
						continue
					}
					_, leaseErr := b.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, n.Name, metav1.GetOptions{})
					if leaseErr == nil && nodeReady(&n) {
						ready++
					} else {
						notReady = n.Name
					}
				}
			}
		}
		if len(pending) == 0 && ready == len(nodes) {
			_, err := b.client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if len(pending) > 0 {
				return componentFailed(pending[0].proc, "health check "+pending[0].url+" never passed")
			}
			why := fmt.Sprintf("%d of %d nodes Ready", ready, len(nodes))
			if notReady != "" {
				why += ", " + notReady + " is not"
			}
			// kwok makes nodes Ready; its log says why it did not.
			for _, p := range procs {
				if p.Name == "kwok" && ready < len(nodes) {
					return componentFailed(p, why)
				}
			}
			return fmt.Errorf("sandbox not ready: %s, or the default ServiceAccount is missing (see kube-controller-manager.log): %w", why, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

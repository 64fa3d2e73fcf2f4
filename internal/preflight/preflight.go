// Package preflight checks that a cluster can take the Todo Chatbot chart
// before it is installed: the cluster answers, its version satisfies the
// chart's kubeVersion, the Ready nodes have room for the chart's requests,
// and the StorageClass and IngressClass the chart needs exist.
//
// The checks are pure functions of a Snapshot (what Gather reads from the
// cluster) and Requirements (what the chart, rendered with the user's values,
// asks for), so each can be tested on any cluster state.
package preflight

import (
	"context"
	"fmt"

	"helm.sh/helm/v3/pkg/chart"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
)

// Check names, stable for -o json consumers.
const (
	CheckReachable    = "cluster-reachable"
	CheckVersion      = "kubernetes-version"
	CheckResources    = "resources"
	CheckStorageClass = "storage-class"
	CheckIngressClass = "ingress-class"
)

// Result is the outcome of one check.
type Result struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Fix says what to do when the check fails; empty when it passed.
	Fix string `json:"fix,omitempty"`
}

// Report is the outcome of all checks.
type Report struct {
	// Passed is true when every check passed.
	Passed bool     `json:"passed"`
	Checks []Result `json:"checks"`
}

func newReport(checks []Result) Report {
	r := Report{Passed: true, Checks: checks}
	for _, c := range checks {
		r.Passed = r.Passed && c.OK
	}
	return r
}

// Snapshot is the cluster state the checks look at.
type Snapshot struct {
	// ServerVersion is the API server's GitVersion, e.g. "v1.34.0".
	ServerVersion string
	Nodes         []corev1.Node
	// Pods are the cluster's non-terminated pods; their requests use up
	// node capacity.
	Pods           []corev1.Pod
	StorageClasses []storagev1.StorageClass
	IngressClasses []networkingv1.IngressClass
}

// Gather reads a Snapshot from the cluster. An error means the cluster could
// not be read at all.
func Gather(ctx context.Context, c kubernetes.Interface) (*Snapshot, error) {
	v, err := c.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("get server version: %w", err)
	}
	s := &Snapshot{ServerVersion: v.GitVersion}
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	s.Nodes = nodes.Items
	pods, err := c.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		FieldSelector: fields.AndSelectors(
			fields.OneTermNotEqualSelector("status.phase", string(corev1.PodSucceeded)),
			fields.OneTermNotEqualSelector("status.phase", string(corev1.PodFailed)),
		).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	s.Pods = pods.Items
	scs, err := c.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list StorageClasses: %w", err)
	}
	s.StorageClasses = scs.Items
	ics, err := c.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list IngressClasses: %w", err)
	}
	s.IngressClasses = ics.Items
	return s, nil
}

// Run renders ch with vals, reads the cluster and runs every check. It
// returns an error only when the chart cannot be rendered; an unreachable
// cluster is a failed check.
func Run(ctx context.Context, c kubernetes.Interface, ch *chart.Chart, vals map[string]any) (Report, error) {
	snap, gatherErr := Gather(ctx, c)
	var version string
	if gatherErr == nil {
		version = snap.ServerVersion
	}
	// Render even when the cluster is down, so bad values are reported as such.
	req, err := RequirementsFor(ch, vals, version)
	if err != nil {
		return Report{}, err
	}
	if gatherErr != nil {
		return newReport([]Result{{
			Name:   CheckReachable,
			Detail: gatherErr.Error(),
			Fix:    "Start the cluster (`minikube start --cpus 2 --memory 4096`) or point --kubeconfig/--context at a running one; `kubectl cluster-info` must answer.",
		}}), nil
	}
	return Evaluate(snap, req), nil
}

// Evaluate runs every check on a snapshot.
func Evaluate(s *Snapshot, req Requirements) Report {
	return newReport([]Result{
		{Name: CheckReachable, OK: true, Detail: "API server " + s.ServerVersion + " answered"},
		checkVersion(s, req),
		checkResources(s, req),
		checkStorageClass(s, req),
		checkIngressClass(s, req),
	})
}

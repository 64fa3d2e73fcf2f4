package usage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"
)

// Scope is what one collection looks at.
type Scope struct {
	// Namespace is "" for all namespaces.
	Namespace string
	// Selector is a label selector on pods ("" for all).
	Selector string
	// Nodes also lists nodes and their usage (top nodes).
	Nodes bool
}

// Helm's ownership annotation on the objects a release manages.
const helmReleaseAnnotation = "meta.helm.sh/release-name"

// Workload is the controller whose pod template a container comes from: a
// Deployment, StatefulSet, DaemonSet, Job, CronJob, or the pod itself.
type Workload struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// HelmRelease is the release that manages the workload, if any, and
	// HelmChart and Component its chart ("todo-chatbot-0.3.0") and
	// component labels: what maps it to the chart's values.
	HelmRelease string `json:"helmRelease,omitempty"`
	HelmChart   string `json:"helmChart,omitempty"`
	Component   string `json:"component,omitempty"`
}

// workloadOf describes a top-level workload from its metadata.
func workloadOf(kind string, m *metav1.ObjectMeta) Workload {
	w := Workload{Kind: kind, Name: m.Name}
	if rel := m.Annotations[helmReleaseAnnotation]; rel != "" {
		w.HelmRelease, w.HelmChart, w.Component = rel, m.Labels["helm.sh/chart"], m.Labels["app.kubernetes.io/component"]
	}
	return w
}

// Snapshot is everything Top and Recommend read, listed once.
type Snapshot struct {
	Time  time.Time
	Scope Scope
	Pods  []corev1.Pod
	Nodes []corev1.Node
	HPAs  []autoscalingv2.HorizontalPodAutoscaler
	// PodMetrics and NodeMetrics are what metrics-server reported, by
	// namespace/name and by node name.
	PodMetrics  map[types.NamespacedName]*metricsv1beta1.PodMetrics
	NodeMetrics map[string]*metricsv1beta1.NodeMetrics
	// MetricsErr says why there is no usage (the metrics API is not served,
	// or not to this user); everything else still works without it.
	MetricsErr error

	// owners maps a ReplicaSet's or Job's UID to the workload above it;
	// workloads maps a top-level workload's UID to it.
	owners map[types.UID]Workload
}

// ErrNoMetricsAPI marks a cluster that does not serve metrics.k8s.io.
var ErrNoMetricsAPI = errors.New("the metrics API (metrics.k8s.io) is not available")

// Collect lists, in parallel and once each, what Top and Recommend need. It
// fails only when pods cannot be listed; a missing metrics API is recorded
// in Snapshot.MetricsErr.
func Collect(ctx context.Context, cfg *rest.Config, typed kubernetes.Interface, sc Scope) (*Snapshot, error) {
	sel, err := labels.Parse(sc.Selector)
	if err != nil {
		return nil, fmt.Errorf("invalid selector %q: %w", sc.Selector, err)
	}
	mc, err := metricsclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build metrics client: %w", err)
	}
	s := &Snapshot{Time: time.Now(), Scope: sc, owners: map[types.UID]Workload{}}
	ns := sc.Namespace
	// Served from the API server's watch cache: one consistent-enough
	// view at a fraction of the cost of a quorum read over thousands of pods.
	cached := metav1.ListOptions{ResourceVersion: "0"}
	podOpts := metav1.ListOptions{ResourceVersion: "0", LabelSelector: sel.String()}

	var (
		mu       sync.Mutex
		errs     = map[string]error{}
		wg       sync.WaitGroup
		rsList   []appsv1.ReplicaSet
		deploys  []appsv1.Deployment
		stsList  []appsv1.StatefulSet
		dsList   []appsv1.DaemonSet
		podMetrs []metricsv1beta1.PodMetrics
		nodeMets []metricsv1beta1.NodeMetrics
	)
	run := func(what string, f func() error) {
		wg.Go(func() {
			if err := f(); err != nil {
				mu.Lock()
				errs[what] = err
				mu.Unlock()
			}
		})
	}
	run("pods", func() error {
		l, err := typed.CoreV1().Pods(ns).List(ctx, podOpts)
		if err == nil {
			s.Pods = l.Items
		}
		return err
	})
	run("replicasets", func() error {
		l, err := typed.AppsV1().ReplicaSets(ns).List(ctx, cached)
		if err == nil {
			rsList = l.Items
		}
		return err
	})
	run("deployments", func() error {
		l, err := typed.AppsV1().Deployments(ns).List(ctx, cached)
		if err == nil {
			deploys = l.Items
		}
		return err
	})
	run("statefulsets", func() error {
		l, err := typed.AppsV1().StatefulSets(ns).List(ctx, cached)
		if err == nil {
			stsList = l.Items
		}
		return err
	})
	run("daemonsets", func() error {
		l, err := typed.AppsV1().DaemonSets(ns).List(ctx, cached)
		if err == nil {
			dsList = l.Items
		}
		return err
	})
	run("horizontalpodautoscalers", func() error {
		l, err := typed.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, cached)
		if err == nil {
			s.HPAs = l.Items
		}
		return err
	})
	run("podmetrics", func() error {
		l, err := mc.MetricsV1beta1().PodMetricses(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err == nil {
			podMetrs = l.Items
		}
		return err
	})
	if sc.Nodes {
		run("nodes", func() error {
			l, err := typed.CoreV1().Nodes().List(ctx, cached)
			if err == nil {
				s.Nodes = l.Items
			}
			return err
		})
		run("nodemetrics", func() error {
			l, err := mc.MetricsV1beta1().NodeMetricses().List(ctx, metav1.ListOptions{})
			if err == nil {
				nodeMets = l.Items
			}
			return err
		})
	}
	wg.Wait()

	if err := errs["pods"]; err != nil {
		return nil, fmt.Errorf("list pods%s: %w", where(ns), err)
	}
	if err := errs["nodes"]; err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	for _, what := range []string{"podmetrics", "nodemetrics"} {
		if err := errs[what]; err != nil && s.MetricsErr == nil {
			s.MetricsErr = metricsError(err)
		}
	}
	// Owners that cannot be read leave their pods grouped by the nearest
	// owner still known (a ReplicaSet): less tidy, not wrong.
	s.PodMetrics = make(map[types.NamespacedName]*metricsv1beta1.PodMetrics, len(podMetrs))
	for i := range podMetrs {
		m := &podMetrs[i]
		s.PodMetrics[types.NamespacedName{Namespace: m.Namespace, Name: m.Name}] = m
	}
	s.NodeMetrics = make(map[string]*metricsv1beta1.NodeMetrics, len(nodeMets))
	for i := range nodeMets {
		s.NodeMetrics[nodeMets[i].Name] = &nodeMets[i]
	}
	s.index(rsList, deploys, stsList, dsList)
	return s, nil
}

func where(ns string) string {
	if ns == "" {
		return " in all namespaces"
	}
	return " in " + ns
}

// metricsError says plainly why there is no usage and what to do.
func metricsError(err error) error {
	switch {
	case apierrors.IsNotFound(err), apierrors.IsServiceUnavailable(err):
		return fmt.Errorf("%w (%v); install metrics-server (the opsagent sandbox runs it), or wait a minute after it starts", ErrNoMetricsAPI, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w to you: %v; ask for get/list on pods.metrics.k8s.io (the view role has it)", ErrNoMetricsAPI, err)
	}
	return fmt.Errorf("%w: %v", ErrNoMetricsAPI, err)
}

// SetMetrics replaces the snapshot's usage (benchmarks and tests that build
// a snapshot in-process).
func (s *Snapshot) SetMetrics(pods []metricsv1beta1.PodMetrics) {
	s.PodMetrics = make(map[types.NamespacedName]*metricsv1beta1.PodMetrics, len(pods))
	for i := range pods {
		s.PodMetrics[types.NamespacedName{Namespace: pods[i].Namespace, Name: pods[i].Name}] = &pods[i]
	}
}

// NewSnapshot builds a snapshot from objects already read (benchmarks, and
// callers that hold informers).
func NewSnapshot(now time.Time, sc Scope, pods []corev1.Pod, rs []appsv1.ReplicaSet, deploys []appsv1.Deployment,
	sts []appsv1.StatefulSet, ds []appsv1.DaemonSet, hpas []autoscalingv2.HorizontalPodAutoscaler, metrics []metricsv1beta1.PodMetrics) *Snapshot {
	s := &Snapshot{Time: now, Scope: sc, Pods: pods, HPAs: hpas, owners: map[types.UID]Workload{}}
	s.SetMetrics(metrics)
	s.NodeMetrics = map[string]*metricsv1beta1.NodeMetrics{}
	s.index(rs, deploys, sts, ds)
	return s
}

// index records which workload each ReplicaSet belongs to, and each
// workload's Helm release.
func (s *Snapshot) index(rs []appsv1.ReplicaSet, deploys []appsv1.Deployment, sts []appsv1.StatefulSet, ds []appsv1.DaemonSet) {
	top := map[types.UID]Workload{}
	for i := range deploys {
		d := &deploys[i]
		top[d.UID] = workloadOf("Deployment", &d.ObjectMeta)
	}
	for i := range sts {
		o := &sts[i]
		top[o.UID] = workloadOf("StatefulSet", &o.ObjectMeta)
	}
	for i := range ds {
		o := &ds[i]
		top[o.UID] = workloadOf("DaemonSet", &o.ObjectMeta)
	}
	for uid, w := range top {
		s.owners[uid] = w
	}
	for i := range rs {
		r := &rs[i]
		if ref := metav1.GetControllerOfNoCopy(r); ref != nil && ref.Kind == "Deployment" {
			if w, ok := top[ref.UID]; ok {
				s.owners[r.UID] = w
			} else {
				s.owners[r.UID] = Workload{Kind: "Deployment", Name: ref.Name}
			}
		}
	}
}

// WorkloadOf is the workload a pod's containers are sized by.
func (s *Snapshot) WorkloadOf(p *corev1.Pod) Workload {
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil {
		return Workload{Kind: "Pod", Name: p.Name}
	}
	if w, ok := s.owners[ref.UID]; ok {
		return w
	}
	return Workload{Kind: ref.Kind, Name: ref.Name}
}

// containerUsage returns what metrics-server reported for one container.
func (s *Snapshot) containerUsage(p *corev1.Pod, container string) (cpuMilli, memBytes int64, ok bool) {
	m := s.PodMetrics[types.NamespacedName{Namespace: p.Namespace, Name: p.Name}]
	if m == nil {
		return 0, 0, false
	}
	for i := range m.Containers {
		if c := &m.Containers[i]; c.Name == container {
			return c.Usage.Cpu().MilliValue(), c.Usage.Memory().Value(), true
		}
	}
	return 0, 0, false
}

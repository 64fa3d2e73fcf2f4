package nodetools

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/toolstest"
)

// testNodeTaint keeps other tests' pods off a test's own node; the pods a
// test puts there tolerate it.
const testNodeTaint = "opsagent.dev/test-node"

// nodeEnv is one test's namespace, its own fake node (the shared node
// "minikube" is never cordoned or drained), and a gate over the node tools
// that approves writes, destructive and privileged changes in that namespace.
type nodeEnv struct {
	*testcluster.Env
	node string
	gate *tools.Gate
}

func newNodeEnv(t *testing.T) *nodeEnv {
	t.Helper()
	env := testcluster.New(t)
	c, err := kube.NewClients(env.Getter())
	if err != nil {
		t.Fatalf("clients: %v", err)
	}
	e := &nodeEnv{Env: env, node: "node-" + env.Namespace, gate: &tools.Gate{
		Registry: tools.NewRegistry(New(c)...),
		Approver: &tools.Policy{AssumeYes: true, AllowDestructive: true, AllowPrivileged: true},
		Scope:    tools.Scope{Namespace: env.Namespace},
	}}
	e.createNode(t)
	return e
}

// createNode adds a kwok-managed node labelled like the sandbox's, tainted
// so that only this test's pods land on it, and waits until it is Ready.
func (e *nodeEnv) createNode(t *testing.T) {
	t.Helper()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("50"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: e.node,
			Labels: map[string]string{
				"kubernetes.io/hostname": e.node, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				testcluster.TestLabel: "true",
			},
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
		},
		Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: testNodeTaint, Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	nodes := e.Client.CoreV1().Nodes()
	if _, err := nodes.Create(t.Context(), node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node %s: %v", e.node, err)
	}
	t.Cleanup(func() {
		if err := nodes.Delete(context.Background(), e.node, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete node %s: %v", e.node, err)
		}
	})
	eventually(t, 30*time.Second, "node "+e.node+" Ready", func() (bool, string) {
		n, err := nodes.Get(t.Context(), e.node, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue, string(c.Status)
			}
		}
		return false, "no Ready condition"
	})
}

func (e *nodeEnv) getNode(t *testing.T) *corev1.Node {
	t.Helper()
	n, err := e.Client.CoreV1().Nodes().Get(t.Context(), e.node, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get node %s: %v", e.node, err)
	}
	return n
}

// podSpec puts pods on the test's node: pinned by nodeSelector, tolerating
// its taint.
func (e *nodeEnv) podSpec() corev1.PodSpec {
	return corev1.PodSpec{
		Containers:                    []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
		NodeSelector:                  map[string]string{"kubernetes.io/hostname": e.node},
		Tolerations:                   []corev1.Toleration{{Key: testNodeTaint, Operator: corev1.TolerationOpExists}},
		TerminationGracePeriodSeconds: ptr.To[int64](0),
	}
}

// createDeployment runs replicas pods labelled app=name on the test's node
// and waits until they are Running there.
func (e *nodeEnv) createDeployment(t *testing.T, name string, replicas int32, mutate func(*corev1.PodSpec)) {
	t.Helper()
	spec := e.podSpec()
	if mutate != nil {
		mutate(&spec)
	}
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
	if _, err := e.Client.AppsV1().Deployments(e.Namespace).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s: %v", name, err)
	}
	e.waitRunning(t, "app="+name, int(replicas))
}

// createDaemonSet runs a DaemonSet whose only node is the test's node.
func (e *nodeEnv) createDaemonSet(t *testing.T, name string) {
	t.Helper()
	labels := map[string]string{"app": name}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: e.podSpec()},
		},
	}
	if _, err := e.Client.AppsV1().DaemonSets(e.Namespace).Create(t.Context(), ds, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create daemonset %s: %v", name, err)
	}
	e.waitRunning(t, "app="+name, 1)
}

// waitRunning waits until want pods matching selector run on the test's node.
func (e *nodeEnv) waitRunning(t *testing.T, selector string, want int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	eventually(t, 60*time.Second, fmt.Sprintf("%d running pods %s on %s", want, selector, e.node), func() (bool, string) {
		pods = e.pods(t, selector)
		running := 0
		for _, p := range pods {
			if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName == e.node && p.DeletionTimestamp == nil {
				running++
			}
		}
		return running == want && len(pods) == want, fmt.Sprintf("%d running of %d", running, len(pods))
	})
	return pods
}

// pods lists this test's pods matching selector that are on the test's node.
func (e *nodeEnv) pods(t *testing.T, selector string) []corev1.Pod {
	t.Helper()
	l, err := e.Client.CoreV1().Pods(e.Namespace).List(t.Context(), metav1.ListOptions{LabelSelector: selector, FieldSelector: "spec.nodeName=" + e.node})
	if err != nil {
		t.Fatalf("list pods %s: %v", selector, err)
	}
	return l.Items
}

// call runs a tool through the test's gate.
func (e *nodeEnv) call(t *testing.T, tool string, v any) *tools.Record {
	t.Helper()
	return toolstest.Call(t, e.gate, tool, v)
}

// mustCall runs a tool through the test's gate and fails the test if it fails.
func (e *nodeEnv) mustCall(t *testing.T, tool string, v any) *tools.Record {
	t.Helper()
	return toolstest.MustCall(t, e.gate, tool, v)
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s (last: %s)", what, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// resultAs reads a record's result as the model sees it.
func resultAs[T any](t *testing.T, rec *tools.Record) T {
	t.Helper()
	return toolstest.ResultAs[T](t, rec)
}

func podNames(pods []corev1.Pod) string {
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Name
	}
	return strings.Join(names, ",")
}

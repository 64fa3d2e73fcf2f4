package nodetools

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestDrainEvictsAndIgnoresDaemonSetPods(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	e.createDeployment(t, "web", 2, nil)
	e.createDaemonSet(t, "agent")
	web := e.pods(t, "app=web")
	agent := e.pods(t, "app=agent")

	rec := e.mustCall(t, NameDrainNode, map[string]any{"name": e.node, "timeout_seconds": 60})
	p := rec.Preview
	if want := "node/" + e.node + ": cordon, then evict 2 pod(s); 1 pod(s) ignored"; p == nil || p.Summary != want {
		t.Fatalf("preview = %+v, want summary %q", p, want)
	}
	if rec.Risk != tools.Destructive {
		t.Errorf("risk = %s, want destructive", rec.Risk)
	}
	for _, pod := range web {
		if !strings.Contains(p.Diff, e.Namespace+"/"+pod.Name+" (replicaset/web-") {
			t.Errorf("preview diff does not list %s with its owner:\n%s", pod.Name, p.Diff)
		}
		if !slices.Contains(p.Targets, tools.Target{Kind: "Pod", Namespace: e.Namespace, Name: pod.Name}) {
			t.Errorf("targets %+v miss pod %s", p.Targets, pod.Name)
		}
	}
	if !strings.Contains(p.Diff, "ignored 1 pod(s):\n  "+e.Namespace+"/"+agent[0].Name+" (daemonset/agent: DaemonSet pod") {
		t.Errorf("preview diff does not list the DaemonSet pod as ignored:\n%s", p.Diff)
	}
	if !slices.Contains(p.Targets, tools.Target{Kind: "Node", Name: e.node}) {
		t.Errorf("targets %+v miss the node", p.Targets)
	}

	res := resultAs[DrainResult](t, rec)
	if !res.Cordoned || len(res.Evicted) != 2 || len(res.Ignored) != 1 || len(res.Remaining) != 0 {
		t.Errorf("result = %+v, want cordoned, 2 evicted, 1 ignored", res)
	}
	if !e.getNode(t).Spec.Unschedulable {
		t.Error("node is schedulable after drain_node")
	}
	// The evicted pods are gone for good (kwok finishes deletions); their
	// replacements cannot land on the cordoned node.
	for _, pod := range web {
		got, err := e.Client.CoreV1().Pods(e.Namespace).Get(t.Context(), pod.Name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("evicted pod %s still exists (err %v, deleting %v)", pod.Name, err, got.DeletionTimestamp)
		}
	}
	if left := e.pods(t, "app=web"); len(left) != 0 {
		t.Errorf("web pods on the drained node: %s", podNames(left))
	}
	if now := e.pods(t, "app=agent"); len(now) != 1 || now[0].UID != agent[0].UID || now[0].DeletionTimestamp != nil {
		t.Errorf("DaemonSet pod was touched: %s", podNames(now))
	}

	// Drained already: nothing to do.
	rec = e.mustCall(t, NameDrainNode, map[string]any{"name": e.node})
	if !rec.Preview.NoChange || rec.Changed() {
		t.Errorf("second drain preview = %+v, want NoChange", rec.Preview)
	}
}

func TestDrainWaitsForPodDisruptionBudgetThenFails(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	e.createDeployment(t, "db", 1, nil)
	db := e.pods(t, "app=db")[0]
	e.createBudget(t, "db-pdb", "app=db", 1)

	start := time.Now()
	rec := e.call(t, NameDrainNode, map[string]any{"name": e.node, "timeout_seconds": 3})
	err := rec.Err()
	if !errors.Is(err, tools.ErrNotConverged) {
		t.Fatalf("error = %v, want ErrNotConverged", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("drain took %s with a 3s timeout", took)
	}
	for _, want := range []string{db.Name, "eviction refused", "poddisruptionbudget/db-pdb in " + e.Namespace, "uncordon_node"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if p := rec.Preview; p == nil || !strings.Contains(p.Summary, "1 PodDisruptionBudget(s) hold evictions back") ||
		!strings.Contains(p.Diff, "poddisruptionbudget/db-pdb in "+e.Namespace+" (minAvailable 1; 1 healthy, 1 needed) allows 0 disruption(s)") ||
		!strings.Contains(p.Diff, "the drain would wait for it and fail after 3s") {
		t.Errorf("preview does not warn about the budget: %+v", p)
	}
	res := resultAs[DrainResult](t, rec)
	if len(res.Remaining) != 1 || res.Remaining[0].Name != db.Name || len(res.Evicted) != 0 {
		t.Errorf("result = %+v, want the db pod remaining", res)
	}
	// The pod is still there, untouched; the node stays cordoned.
	got, err := e.Client.CoreV1().Pods(e.Namespace).Get(t.Context(), db.Name, metav1.GetOptions{})
	if err != nil || got.UID != db.UID || got.DeletionTimestamp != nil {
		t.Errorf("db pod after a blocked drain: err %v, %+v", err, got.ObjectMeta)
	}
	if !e.getNode(t).Spec.Unschedulable {
		t.Error("node is schedulable after a drain that cordoned it")
	}
}

func TestDrainRefusesPodsThatWouldBeLost(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	e.createDeployment(t, "cache", 1, func(s *corev1.PodSpec) {
		s.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	})
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Labels: map[string]string{"app": "bare"}}, Spec: e.podSpec()}
	if _, err := e.Client.CoreV1().Pods(e.Namespace).Create(t.Context(), bare, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitRunning(t, "app=bare", 1)
	cache := e.pods(t, "app=cache")[0]

	rec := e.call(t, NameDrainNode, map[string]any{"name": e.node})
	err := rec.Err()
	if err == nil || rec.Approved {
		t.Fatalf("drain with a bare pod and an emptyDir pod ran: %+v", rec)
	}
	for _, want := range []string{e.Namespace + "/bare", "bare pod with no controller", e.Namespace + "/" + cache.Name, `emptyDir volume "scratch"`, "delete_emptydir_data=true", "nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if e.getNode(t).Spec.Unschedulable {
		t.Fatal("a refused drain cordoned the node")
	}

	// With delete_emptydir_data the bare pod still blocks.
	rec = e.call(t, NameDrainNode, map[string]any{"name": e.node, "delete_emptydir_data": true})
	if err := rec.Err(); err == nil || !strings.Contains(err.Error(), "bare pod") || strings.Contains(err.Error(), "scratch") {
		t.Fatalf("error = %v, want only the bare pod blocking", err)
	}
	if err := e.Client.CoreV1().Pods(e.Namespace).Delete(t.Context(), "bare", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "bare pod gone", func() (bool, string) {
		return len(e.pods(t, "app=bare")) == 0, podNames(e.pods(t, "app=bare"))
	})
	rec = e.mustCall(t, NameDrainNode, map[string]any{"name": e.node, "delete_emptydir_data": true, "timeout_seconds": 60})
	if res := resultAs[DrainResult](t, rec); len(res.Evicted) != 1 || res.Evicted[0].Name != cache.Name {
		t.Errorf("result = %+v, want the cache pod evicted", res)
	}
	if !podGone(t, e, cache.Name, cache.UID) {
		t.Errorf("pod %s still exists after the drain", cache.Name)
	}
}

// createBudget creates a PodDisruptionBudget and waits until the disruption
// controller has counted its pods.
func (e *nodeEnv) createBudget(t *testing.T, name, selector string, minAvailable int) {
	t.Helper()
	sel, err := metav1.ParseToLabelSelector(selector)
	if err != nil {
		t.Fatal(err)
	}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       policyv1.PodDisruptionBudgetSpec{Selector: sel, MinAvailable: ptr.To(intstr.FromInt32(int32(minAvailable)))},
	}
	budgets := e.Client.PolicyV1().PodDisruptionBudgets(e.Namespace)
	if _, err := budgets.Create(t.Context(), pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "budget "+name+" observed", func() (bool, string) {
		got, err := budgets.Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		s := got.Status
		return s.ObservedGeneration == got.Generation && s.ExpectedPods > 0, "status " + got.Status.String()
	})
}

func podGone(t *testing.T, e *nodeEnv, name string, uid types.UID) bool {
	t.Helper()
	got, err := e.Client.CoreV1().Pods(e.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	return apierrors.IsNotFound(err) || (err == nil && got.UID != uid)
}

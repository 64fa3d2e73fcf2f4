package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/sandbox"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// These tests check that the sandbox behaves like a cluster to workloads:
// they run on the sandbox `make test` started.

func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, detail := cond()
		if ok {
			return
		}
		last = detail
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not true within %s (last: %s)", what, timeout, last)
}

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
			},
		},
	}
}

func runningPods(ctx context.Context, c kubernetes.Interface, ns, selector string) (int, string) {
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return 0, err.Error()
	}
	n := 0
	var phases []string
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			n++
		}
		phases = append(phases, p.Name+"="+string(p.Status.Phase))
	}
	return n, strings.Join(phases, ",")
}

func TestDeploymentRunsAndScales(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	ctx := context.Background()
	deps := env.Client.AppsV1().Deployments(env.Namespace)
	if _, err := deps.Create(ctx, deployment("web", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "2 pods Running and deployment available", func() (bool, string) {
		n, detail := runningPods(ctx, env.Client, env.Namespace, "app=web")
		d, err := deps.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return n == 2 && d.Status.ReadyReplicas == 2, detail
	})

	scale, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 4
	if _, err := deps.UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "4 ready replicas after scale", func() (bool, string) {
		d, err := deps.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return d.Status.ReadyReplicas == 4, fmt.Sprintf("ready=%d", d.Status.ReadyReplicas)
	})
}

func TestPVCBindsOnDefaultStorageClass(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	ctx := context.Background()
	sc, err := env.Client.StorageV1().StorageClasses().Get(ctx, "standard", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("StorageClass standard: %v", err)
	}
	if sc.Annotations["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Errorf("standard is not the default StorageClass")
	}
	if _, err := env.Client.NetworkingV1().IngressClasses().Get(ctx, "nginx", metav1.GetOptions{}); err != nil {
		t.Errorf("IngressClass nginx: %v", err)
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			// No storageClassName: the default class must be applied.
		},
	}
	if _, err := env.Client.CoreV1().PersistentVolumeClaims(env.Namespace).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var pvName string
	eventually(t, 30*time.Second, "PVC Bound", func() (bool, string) {
		got, err := env.Client.CoreV1().PersistentVolumeClaims(env.Namespace).Get(ctx, "data", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		pvName = got.Spec.VolumeName
		return got.Status.Phase == corev1.ClaimBound, string(got.Status.Phase)
	})
	pv, err := env.Client.CoreV1().PersistentVolumes().Get(ctx, pvName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pv.Spec.HostPath == nil || pv.Spec.StorageClassName != "standard" {
		t.Errorf("PV %s: want a hostPath volume of class standard, got %+v", pvName, pv.Spec)
	}
	// Reclaim policy Delete: removing the claim removes the volume.
	if err := env.Client.CoreV1().PersistentVolumeClaims(env.Namespace).Delete(ctx, "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "PV deleted with its claim", func() (bool, string) {
		_, err := env.Client.CoreV1().PersistentVolumes().Get(ctx, pvName, metav1.GetOptions{})
		return err != nil, "PV still exists"
	})
}

func createPod(t *testing.T, env *testcluster.Env, name, simState string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyAlways,
			Containers:    []corev1.Container{{Name: "app", Image: "registry.example/app:1.0"}},
		},
	}
	if simState != "" {
		pod.Labels[sandbox.SimPodStateLabel] = simState
	}
	if simState == sandbox.SimError {
		pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	}
	got, err := env.Client.CoreV1().Pods(env.Namespace).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func podLogs(ctx context.Context, c kubernetes.Interface, ns, pod string, previous bool) (string, error) {
	rc, err := c.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Previous: previous}).Stream(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	return string(b), err
}

func TestPodLogs(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	ctx := context.Background()
	createPod(t, env, "plain", "")
	createPod(t, env, "custom", "")
	env.SetPodLogs(t, "custom", []string{"INFO booting", "ERROR database unreachable"}, []string{"panic: boom"})

	eventually(t, 30*time.Second, "default logs of a pod", func() (bool, string) {
		out, err := podLogs(ctx, env.Client, env.Namespace, "plain", false)
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(out, "container started"), out
	})
	eventually(t, 30*time.Second, "a pod's own logs and previous logs", func() (bool, string) {
		out, err := podLogs(ctx, env.Client, env.Namespace, "custom", false)
		if err != nil {
			return false, err.Error()
		}
		prev, err := podLogs(ctx, env.Client, env.Namespace, "custom", true)
		if err != nil {
			return false, err.Error()
		}
		return out == "INFO booting\nERROR database unreachable\n" && prev == "panic: boom\n", out + "|" + prev
	})
}

func warningEvents(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod) map[string]int {
	evs, err := c.CoreV1().Events(pod.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.uid", string(pod.UID)).String(),
	})
	out := map[string]int{}
	if err != nil {
		return out
	}
	for _, e := range evs.Items {
		out[e.Type+"/"+e.Reason] += max(1, int(e.Count))
	}
	return out
}

func TestSimulatedPodFailures(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	ctx := context.Background()
	tests := []struct {
		state string
		check func(p *corev1.Pod, events map[string]int) (bool, string)
	}{
		{sandbox.SimCrashLoopBackOff, func(p *corev1.Pod, ev map[string]int) (bool, string) {
			cs := firstStatus(p)
			ok := cs != nil && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" &&
				cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.ExitCode == 1 &&
				cs.RestartCount >= 2 && ev["Warning/BackOff"] >= 2
			return ok, describe(cs, ev)
		}},
		{sandbox.SimOOMKilled, func(p *corev1.Pod, ev map[string]int) (bool, string) {
			cs := firstStatus(p)
			ok := cs != nil && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" &&
				cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.Reason == "OOMKilled" &&
				cs.LastTerminationState.Terminated.ExitCode == 137 && ev["Warning/BackOff"] >= 1
			return ok, describe(cs, ev)
		}},
		{sandbox.SimImagePullBackOff, func(p *corev1.Pod, ev map[string]int) (bool, string) {
			cs := firstStatus(p)
			ok := p.Status.Phase == corev1.PodPending && cs != nil && cs.State.Waiting != nil &&
				cs.State.Waiting.Reason == "ImagePullBackOff" && strings.Contains(cs.State.Waiting.Message, "registry.example/app:1.0") &&
				ev["Warning/Failed"] >= 1
			return ok, describe(cs, ev)
		}},
		{sandbox.SimError, func(p *corev1.Pod, ev map[string]int) (bool, string) {
			cs := firstStatus(p)
			ok := p.Status.Phase == corev1.PodFailed && cs != nil && cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 1
			return ok, describe(cs, ev)
		}},
		{sandbox.SimUnready, func(p *corev1.Pod, ev map[string]int) (bool, string) {
			cs := firstStatus(p)
			ok := p.Status.Phase == corev1.PodRunning && cs != nil && !cs.Ready && ev["Warning/Unhealthy"] >= 1
			return ok, describe(cs, ev)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			t.Parallel()
			created := createPod(t, env, strings.ToLower(tt.state), tt.state)
			eventually(t, 60*time.Second, tt.state, func() (bool, string) {
				p, err := env.Client.CoreV1().Pods(env.Namespace).Get(ctx, created.Name, metav1.GetOptions{})
				if err != nil {
					return false, err.Error()
				}
				return tt.check(p, warningEvents(ctx, env.Client, p))
			})
		})
	}
}

func TestUnschedulablePodStaysPending(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "huge"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "app:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500")}},
		}}},
	}
	created, err := env.Client.CoreV1().Pods(env.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "FailedScheduling Insufficient cpu", func() (bool, string) {
		ev := warningEvents(ctx, env.Client, created)
		return ev["Warning/FailedScheduling"] >= 1, fmt.Sprint(ev)
	})
}

// TestSimulatedNodeConditions adds its own fake node so the shared node the
// other tests schedule on is never disturbed.
func TestSimulatedNodeConditions(t *testing.T) {
	env := testcluster.New(t)
	ctx := context.Background()
	name := "sim-" + env.Namespace
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels:      map[string]string{"kubernetes.io/hostname": name},
		},
		// Keep other tests' pods off this node.
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "opsagent.dev/test-node", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{Capacity: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi"), corev1.ResourcePods: resource.MustParse("10"),
		}},
	}
	nodes := env.Client.CoreV1().Nodes()
	if _, err := nodes.Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nodes.Delete(context.Background(), name, metav1.DeleteOptions{}) })

	status := func(typ corev1.NodeConditionType) corev1.ConditionStatus {
		n, err := nodes.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return ""
		}
		for _, c := range n.Status.Conditions {
			if c.Type == typ {
				return c.Status
			}
		}
		return ""
	}
	setLabel := func(value string) {
		t.Helper()
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, sandbox.SimNodeStateLabel, value)
		if _, err := nodes.Patch(ctx, name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "new node Ready", func() (bool, string) {
		s := status(corev1.NodeReady)
		return s == corev1.ConditionTrue, string(s)
	})
	setLabel(`"NotReady"`)
	eventually(t, 20*time.Second, "node NotReady", func() (bool, string) {
		s := status(corev1.NodeReady)
		return s == corev1.ConditionFalse, string(s)
	})
	setLabel(`null`)
	eventually(t, 20*time.Second, "node Ready again after the label is removed", func() (bool, string) {
		s := status(corev1.NodeReady)
		return s == corev1.ConditionTrue, string(s)
	})
	setLabel(`"MemoryPressure"`)
	eventually(t, 20*time.Second, "MemoryPressure", func() (bool, string) {
		return status(corev1.NodeMemoryPressure) == corev1.ConditionTrue && status(corev1.NodeReady) == corev1.ConditionTrue,
			string(status(corev1.NodeMemoryPressure))
	})
}

func firstStatus(p *corev1.Pod) *corev1.ContainerStatus {
	if len(p.Status.ContainerStatuses) == 0 {
		return nil
	}
	return &p.Status.ContainerStatuses[0]
}

func describe(cs *corev1.ContainerStatus, ev map[string]int) string {
	if cs == nil {
		return fmt.Sprintf("no container status; events %v", ev)
	}
	return fmt.Sprintf("state=%+v last=%+v restarts=%d events=%v", cs.State, cs.LastTerminationState, cs.RestartCount, ev)
}

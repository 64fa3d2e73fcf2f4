package testcluster

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// settleTimeout bounds the waits below; the sandbox's kwok pods are ready
// within seconds, so a minute means something is wrong.
const settleTimeout = time.Minute

// Deployment creates a Deployment of replicas in the test's namespace (label
// app=name, one container "app" running registry.example/NAME:1, no
// termination grace) and waits until it has settled (WaitDeployment). change,
// if given, adjusts it before it is created.
func (e *Env) Deployment(t testing.TB, name string, replicas int32, change ...func(*appsv1.Deployment)) *appsv1.Deployment {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers:                    []corev1.Container{{Name: "app", Image: "registry.example/" + name + ":1"}},
					TerminationGracePeriodSeconds: ptr.To[int64](0),
				},
			},
		},
	}
	for _, f := range change {
		f(d)
	}
	if _, err := e.Client.AppsV1().Deployments(e.Namespace).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s: %v", name, err)
	}
	return e.WaitDeployment(t, name, *d.Spec.Replicas)
}

// WaitDeployment waits until the deployment controller has caught up with
// the Deployment's spec and want replicas are updated, ready and available.
// Until then its status updates change the resourceVersion a preview is
// bound to, and an approved write would (rightly) conflict.
func (e *Env) WaitDeployment(t testing.TB, name string, want int32) *appsv1.Deployment {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for {
		d, err := e.Client.AppsV1().Deployments(e.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			st := d.Status
			if *d.Spec.Replicas == want && st.ObservedGeneration == d.Generation && st.Replicas == want &&
				st.UpdatedReplicas == want && st.ReadyReplicas == want && st.AvailableReplicas == want {
				return d
			}
		}
		if time.Now().After(deadline) {
			var status any = err
			if err == nil {
				status = d.Status
			}
			t.Fatalf("deployment %s did not settle at %d ready replicas within %s: %+v", name, want, settleTimeout, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Replicas is a Deployment's spec.replicas.
func (e *Env) Replicas(t testing.TB, name string) int32 {
	t.Helper()
	d, err := e.Client.AppsV1().Deployments(e.Namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment %s: %v", name, err)
	}
	return *d.Spec.Replicas
}

// WaitPodRunning waits until the pod's phase is Running (the sandbox's kwok
// reports it at once, also for a pod it shows crash-looping).
func (e *Env) WaitPodRunning(t testing.TB, name string) {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for {
		p, err := e.Client.CoreV1().Pods(e.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s not Running within %s (err %v)", name, settleTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package objecttools

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestDeleteDeploymentListsWhatGoesWithIt(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ns := e.Namespace
	e.mustCall(t, NameApplyObjects, map[string]any{"manifests": deploymentYAML("web", 2)})
	e.waitDeployment(t, "web", 2)
	args := map[string]any{"kind": "deployment", "name": "web"}

	// --yes alone does not delete.
	rec := e.call(t, NameDeleteObject, args)
	if !errors.Is(rec.Err(), tools.ErrApprovalRequired) || rec.Risk != tools.Destructive {
		t.Fatalf("error = %v, risk = %v; want a destructive action refused without --allow-destructive", rec.Err(), rec.Risk)
	}
	if want := "delete deployment/web in " + ns; rec.Preview.Summary != want {
		t.Errorf("summary = %q, want %q", rec.Preview.Summary, want)
	}
	for _, want := range []string{"goes with it", "1 replicaset (web-", "2 pods (web-"} {
		if !strings.Contains(rec.Preview.Diff, want) {
			t.Errorf("preview does not say %q:\n%s", want, rec.Preview.Diff)
		}
	}
	if _, err := e.Client.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{}); err != nil {
		t.Fatalf("deployment gone although refused: %v", err)
	}

	e.allow(true, false)
	e.mustCall(t, NameDeleteObject, args)
	if _, err := e.Client.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("deployment still there after delete: %v", err)
	}
}

func TestDeleteStatefulSetKeepsItsClaims(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ns := e.Namespace
	labels := map[string]string{"app": "db"}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    new(int32(1)),
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: new(int64(0)),
					Containers: []corev1.Container{{Name: "db", Image: "registry.example/db:1",
						VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
	if _, err := e.Client.AppsV1().StatefulSets(ns).Create(t.Context(), sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "claim data-db-0", func(ctx context.Context) error {
		_, err := e.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-0", metav1.GetOptions{})
		return err
	})

	e.allow(true, false)
	rec := e.mustCall(t, NameDeleteObject, map[string]any{"kind": "sts", "name": "db"})
	if !strings.Contains(rec.Preview.Diff, "stays: 1 persistentvolumeclaim (data-db-0)") {
		t.Errorf("preview does not list the claim that stays:\n%s", rec.Preview.Diff)
	}
	if _, err := e.Client.AppsV1().StatefulSets(ns).Get(t.Context(), "db", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("statefulset still there after delete: %v", err)
	}
	if _, err := e.Client.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), "data-db-0", metav1.GetOptions{}); err != nil {
		t.Errorf("claim data-db-0 should stay: %v", err)
	}
}

func TestDeleteRefusesAnObjectReplacedOrChangedAfterThePreview(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.allow(true, false)
	cms := e.Client.CoreV1().ConfigMaps(e.Namespace)
	create := func(mode string) *corev1.ConfigMap {
		t.Helper()
		cm, err := cms.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"mode": mode}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cm
	}
	args := map[string]any{"kind": "configmap", "name": "settings"}

	// Deleted and created again under the same name: a different object.
	create("old")
	action := e.prepare(t, NameDeleteObject, args)
	if err := cms.Delete(t.Context(), "settings", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	successor := create("new")
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("delete of a recreated object: error = %v, want ErrConflict", err)
	}
	cm, err := cms.Get(t.Context(), "settings", metav1.GetOptions{})
	if err != nil || cm.UID != successor.UID {
		t.Fatalf("the successor was deleted: %v, %v", cm, err)
	}

	// Changed: the preview no longer describes it.
	action = e.prepare(t, NameDeleteObject, args)
	cm.Data["mode"] = "changed"
	if _, err := cms.Update(t.Context(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("delete of a changed object: error = %v, want ErrConflict", err)
	}
	if _, err := cms.Get(t.Context(), "settings", metav1.GetOptions{}); err != nil {
		t.Fatalf("changed object deleted: %v", err)
	}
}

func TestDeletePreviews(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ns := e.Namespace
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := e.Client.CoreV1().PersistentVolumeClaims(ns).Create(t.Context(), claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "user"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}},
		},
	}
	if _, err := e.Client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.gate.DryRun = true

	rec := e.mustCall(t, NameDeleteObject, map[string]any{"kind": "pvc", "name": "data"})
	if !strings.Contains(rec.Preview.Diff, "still in use by 1 pod (user)") {
		t.Errorf("claim preview does not name the pod using it:\n%s", rec.Preview.Diff)
	}

	rec = e.mustCall(t, NameDeleteObject, map[string]any{"kind": "namespace", "name": ns})
	if want := "delete namespace/" + ns + " (cluster-scoped)"; rec.Preview.Summary != want {
		t.Errorf("summary = %q, want %q", rec.Preview.Summary, want)
	}
	for _, want := range []string{"1 pod", "1 persistentvolumeclaim", "configmap"} {
		if !strings.Contains(rec.Preview.Diff, want) {
			t.Errorf("namespace preview does not count %q:\n%s", want, rec.Preview.Diff)
		}
	}
	if len(rec.Privileged) == 0 {
		t.Error("deleting a namespace is not marked privileged")
	}
	if _, err := e.Client.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{}); err != nil {
		t.Fatalf("dry run deleted the namespace: %v", err)
	}
}

// waitFor polls check until it succeeds, for at most a minute.
func (e *clusterEnv) waitFor(t *testing.T, what string, check func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for {
		err := check(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not there in time: %v", what, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

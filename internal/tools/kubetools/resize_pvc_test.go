package kubetools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/sandbox"
	"github.com/opsagent/opsagent/internal/tools"
)

// createStorageClass creates a cluster-scoped StorageClass served by the
// sandbox's provisioner, named after the test's namespace so parallel tests
// never share one, and deletes it when the test ends.
func (e *clusterEnv) createStorageClass(t *testing.T, expandable bool) string {
	t.Helper()
	name := e.Namespace + "-sc"
	sc := &storagev1.StorageClass{
		ObjectMeta:           metav1.ObjectMeta{Name: name},
		Provisioner:          sandbox.ProvisionerName,
		ReclaimPolicy:        ptr.To(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode:    ptr.To(storagev1.VolumeBindingImmediate),
		AllowVolumeExpansion: ptr.To(expandable),
	}
	if _, err := e.Client.StorageV1().StorageClasses().Create(t.Context(), sc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create storageclass %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := e.Client.StorageV1().StorageClasses().Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete storageclass %s: %v", name, err)
		}
	})
	return name
}

// createBoundClaim creates a claim of size in class and waits until the
// provisioner has bound it.
func (e *clusterEnv) createBoundClaim(t *testing.T, name, class, size string) {
	t.Helper()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To(class),
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
	}
	claims := e.Client.CoreV1().PersistentVolumeClaims(e.Namespace)
	if _, err := claims.Create(t.Context(), pvc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pvc %s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var last any
	for {
		got, err := claims.Get(ctx, name, metav1.GetOptions{})
		switch {
		case err != nil:
			last = err
		case got.Status.Phase == corev1.ClaimBound:
			return
		default:
			last = got.Status.Phase
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pvc %s not bound in time (last: %v)", name, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (e *clusterEnv) claimSize(t *testing.T, name string) string {
	t.Helper()
	pvc, err := e.Client.CoreV1().PersistentVolumeClaims(e.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	return q.String()
}

func TestResizePVC(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createBoundClaim(t, "data-postgres-0", e.createStorageClass(t, true), "1Gi")
	target := tools.Target{Kind: "PersistentVolumeClaim", Namespace: e.Namespace, Name: "data-postgres-0"}

	rec := e.mustCall(t, NameResizePVC, map[string]any{"name": "data-postgres-0", "size": "5Gi"})
	wantPreview(t, rec, "pvc/data-postgres-0 in "+e.Namespace+": 1Gi → 5Gi", tools.Write, target)
	if got := e.claimSize(t, "data-postgres-0"); got != "5Gi" {
		t.Errorf("claim requests %s after resize, want 5Gi", got)
	}
	if res := resultAs[ResizePVCResult](t, rec); res.Before != "1Gi" || res.After != "5Gi" {
		t.Errorf("result = %+v", res)
	}

	// The loose name works, and the same size (in other units) is no change.
	wantNoChange(t, e.call(t, NameResizePVC, map[string]any{"name": "postgres-0", "size": "5120Mi"}))

	// Shrinking is impossible in Kubernetes.
	wantRefused(t, e.call(t, NameResizePVC, map[string]any{"name": "data-postgres-0", "size": "2Gi"}),
		tools.ErrInvalidArgs, "cannot shrink", "create a new claim")
	if got := e.claimSize(t, "data-postgres-0"); got != "5Gi" {
		t.Errorf("claim requests %s after a refused shrink, want 5Gi", got)
	}
}

func TestResizePVCNeedsExpansion(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	class := e.createStorageClass(t, false)
	e.createBoundClaim(t, "data", class, "1Gi")

	rec := e.call(t, NameResizePVC, map[string]any{"name": "data", "size": "5Gi"})
	err := rec.Err()
	if err == nil || rec.Approved || !strings.Contains(err.Error(), "StorageClass "+class+" does not allow volume expansion") ||
		!strings.Contains(err.Error(), "kubectl patch storageclass "+class) {
		t.Fatalf("error = %v, want a refusal saying how to allow expansion", err)
	}
	if got := e.claimSize(t, "data"); got != "1Gi" {
		t.Errorf("claim requests %s after a refused resize, want 1Gi", got)
	}
}

func TestResizePVCRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	for _, size := range []string{"", "big", "-1Gi", "0", "100Pi"} {
		wantRefused(t, e.call(t, NameResizePVC, map[string]any{"name": "data", "size": size}), tools.ErrInvalidArgs)
	}
	wantRefused(t, e.call(t, NameResizePVC, map[string]any{"name": "data", "size": "5Gi"}), tools.ErrNotFound)
}

// Between the preview and the run, a change of the claim's requested size,
// labels or annotations is a conflict; a status update (binding, resizing,
// the claim's conditions) is not.
func TestResizePVCChangedSincePreview(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	class := e.createStorageClass(t, true)
	claims := e.Client.CoreV1().PersistentVolumeClaims(e.Namespace)
	tests := []struct {
		name      string
		meanwhile func(t *testing.T, claim string)
		wantErr   error
		wantSize  string
	}{
		{name: "status only", meanwhile: func(t *testing.T, claim string) {
			touchObjectStatus(t, claims, claim, func(pvc *corev1.PersistentVolumeClaim) {
				pvc.Status.Conditions = append(pvc.Status.Conditions, corev1.PersistentVolumeClaimCondition{
					Type: touchedCondition, Status: corev1.ConditionTrue, Reason: "StatusOnly", LastTransitionTime: metav1.Now(),
				})
			})
		}, wantSize: "5Gi"},
		{name: "labels", meanwhile: func(t *testing.T, claim string) {
			updateObject(t, claims, claim, func(pvc *corev1.PersistentVolumeClaim) { pvc.Labels = map[string]string{"changed-by": "someone-else"} })
		}, wantErr: tools.ErrConflict, wantSize: "1Gi"},
		{name: "resized by someone else", meanwhile: func(t *testing.T, claim string) {
			updateObject(t, claims, claim, func(pvc *corev1.PersistentVolumeClaim) {
				pvc.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
			})
		}, wantErr: tools.ErrConflict, wantSize: "2Gi"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claim := fmt.Sprintf("data-%d", i)
			e.createBoundClaim(t, claim, class, "1Gi")
			action := e.prepare(t, NameResizePVC, map[string]any{"name": claim, "size": "5Gi"})
			tt.meanwhile(t, claim)

			_, err := action.Run(t.Context())
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), "re-run")) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			if got := e.claimSize(t, claim); got != tt.wantSize {
				t.Errorf("claim requests %s after the run, want %s", got, tt.wantSize)
			}
		})
	}
}

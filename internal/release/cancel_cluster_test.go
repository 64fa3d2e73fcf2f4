package release

import (
	"context"
	"errors"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// blockingChart has a PersistentVolumeClaim of a StorageClass that does not
// exist, so a wait for readiness never ends, and a ConfigMap holding a
// finalizer nobody removes, so a wait for its deletion never ends either.
func blockingChart() *chart.Chart {
	return &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: "blocking", Version: "0.1.0"},
		Values:   map[string]any{"revision": "1"},
		Templates: []*chart.File{{Name: "templates/objects.yaml", Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-held
  finalizers: ["opsagent.dev/test-hold"]
data:
  revision: {{ .Values.revision | quote }}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .Release.Name }}-unbound
spec:
  storageClassName: opsagent-test-no-such-class
  accessModes: ["ReadWriteOnce"]
  resources:
    requests:
      storage: 1Mi
`)}},
	}
}

// cancelAfter runs op with a context cancelled after a second, and fails the
// test when op has not returned 30 s later: its wait did not end with the
// context. The waits themselves are allowed five minutes.
func cancelAfter(t *testing.T, op func(context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(time.Second, cancel)
	done := make(chan error, 1)
	go func() { done <- op(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the operation went on waiting after its context was cancelled")
		return nil
	}
}

func TestClusterCancelRollbackAndUninstallWaits(t *testing.T) {
	t.Parallel()
	c, env, ctx := newClusterClient(t)
	t.Cleanup(func() {
		// Let the namespace go: drop the finalizer the chart set.
		for _, name := range []string{"stuck-rollback-held", "stuck-uninstall-held"} {
			_, _ = env.Client.CoreV1().ConfigMaps(env.Namespace).Patch(context.Background(), name,
				types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		}
	})

	t.Run("rollback", func(t *testing.T) {
		const name = "stuck-rollback"
		deployOrFail(t, ctx, c, DeployOptions{ReleaseName: name, Chart: blockingChart()})
		deployOrFail(t, ctx, c, DeployOptions{ReleaseName: name, Chart: blockingChart(), Values: Values{Set: []string{"revision=2"}}})
		err := cancelAfter(t, func(ctx context.Context) error {
			_, err := c.Rollback(ctx, name, RollbackOptions{Revision: 1, Wait: true, Timeout: 5 * time.Minute})
			return err
		})
		if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
			t.Fatalf("rollback error = %v, want ErrInterrupted from context.Canceled", err)
		}
		// Helm records the cancelled rollback as failed, not pending, so
		// the next operation is not refused as "in progress".
		st, err := c.Status(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Revision != 3 || st.Status != helmrelease.StatusFailed.String() {
			t.Errorf("after the cancelled rollback the release is revision %d %s, want 3 failed", st.Revision, st.Status)
		}
	})

	t.Run("uninstall", func(t *testing.T) {
		const name = "stuck-uninstall"
		deployOrFail(t, ctx, c, DeployOptions{ReleaseName: name, Chart: blockingChart()})
		err := cancelAfter(t, func(ctx context.Context) error {
			_, err := c.Uninstall(ctx, name, UninstallOptions{Wait: true, Timeout: 5 * time.Minute})
			return err
		})
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("uninstall error = %v, want ErrInterrupted", err)
		}
	})
}

package kubetools

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestRollbackDeployment(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 2, image: "registry.example/web:1.0"})

	// Only one revision so far: nothing to go back to.
	rec := e.call(t, NameRollbackDeployment, map[string]any{"name": "web"})
	if err := rec.Err(); !errors.Is(err, tools.ErrNotFound) || !strings.Contains(err.Error(), "no previous revision") {
		t.Fatalf("rollback with one revision: error = %v, want ErrNotFound about no previous revision", err)
	}

	// A bad release.
	d := e.getDeployment(t, "web")
	d.Spec.Template.Spec.Containers[0].Image = "registry.example/web:2.0-broken"
	if _, err := e.Client.AppsV1().Deployments(e.Namespace).Update(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitDeployment(t, "web", 2)

	rec = e.mustCall(t, NameRollbackDeployment, map[string]any{"name": "web"})
	if rec.Preview == nil || rec.Preview.Summary != "deployment/web in "+e.Namespace+": roll back revision 2 → 1" ||
		rec.Preview.Diff != "container app: image registry.example/web:2.0-broken → registry.example/web:1.0" {
		t.Errorf("preview = %+v", rec.Preview)
	}
	if want := (tools.Target{Kind: "Deployment", Namespace: e.Namespace, Name: "web"}); len(rec.Preview.Targets) != 1 || rec.Preview.Targets[0] != want {
		t.Errorf("targets = %v, want %v", rec.Preview.Targets, want)
	}
	res := resultAs[RollbackResult](t, rec)
	if !res.Converged || res.FromRevision != 2 || res.ToRevision != 1 {
		t.Errorf("result = %+v, want converged 2 → 1", res)
	}
	d = e.getDeployment(t, "web")
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "registry.example/web:1.0" {
		t.Errorf("image after rollback = %s, want registry.example/web:1.0", img)
	}
	if _, ok := d.Spec.Template.Labels["pod-template-hash"]; ok {
		t.Errorf("rollback copied the pod-template-hash label into the deployment: %v", d.Spec.Template.Labels)
	}
	if rev := d.Annotations[revisionAnnotation]; rev != "3" {
		t.Errorf("revision after rollback = %s, want 3 (the controller renumbers the restored template)", rev)
	}

	// Rolling back to the revision it now runs is no change.
	rec = e.mustCall(t, NameRollbackDeployment, map[string]any{"name": "web", "revision": 3})
	if rec.Preview == nil || !rec.Preview.NoChange {
		t.Errorf("rollback to the current revision: preview = %+v, want NoChange", rec.Preview)
	}
}

// Between the preview and the run, a change of the spec (here the pod
// template) is a conflict; a status update is not.
func TestRollbackDeploymentChangedSincePreview(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	tests := []struct {
		name      string
		meanwhile func(t *testing.T, deploy string)
		wantErr   error
		wantImage string
	}{
		{name: "status only", meanwhile: e.touchStatus, wantImage: "registry.example/web:1.0"},
		{name: "template changed by someone else", meanwhile: func(t *testing.T, deploy string) {
			e.updateDeployment(t, deploy, func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "registry.example/web:3.0" })
		}, wantErr: tools.ErrConflict, wantImage: "registry.example/web:3.0"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			deploy := fmt.Sprintf("web-%d", i)
			e.createDeployment(t, deploySpec{name: deploy, replicas: 1, image: "registry.example/web:1.0"})
			e.updateDeployment(t, deploy, func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "registry.example/web:2.0" })
			e.waitDeployment(t, deploy, 1)
			action := e.prepare(t, NameRollbackDeployment, map[string]any{"name": deploy, "wait": false})
			tt.meanwhile(t, deploy)

			_, err := action.Run(t.Context())
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), "re-run")) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			if img := e.getDeployment(t, deploy).Spec.Template.Spec.Containers[0].Image; img != tt.wantImage {
				t.Errorf("image after the run = %s, want %s", img, tt.wantImage)
			}
		})
	}
}

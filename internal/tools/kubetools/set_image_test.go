package kubetools

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestSetImage(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "todo-backend", replicas: 2, image: "registry.example/todo-backend:1.3",
		labels: map[string]string{"app.kubernetes.io/component": "backend"}})

	rec := e.mustCall(t, NameSetImage, map[string]any{"name": "backend", "image": "registry.example/todo-backend:1.4"})
	wantPreview(t, rec, "deployment/todo-backend in "+e.Namespace+": container app image registry.example/todo-backend:1.3 → registry.example/todo-backend:1.4",
		tools.Write, tools.Target{Kind: "Deployment", Namespace: e.Namespace, Name: "todo-backend"})
	res := resultAs[TemplateChangeResult](t, rec)
	if !res.Converged || res.Container != "app" || res.RevisionBefore != "1" || res.RevisionAfter != "2" {
		t.Errorf("result = %+v, want converged from revision 1 to 2", res)
	}
	d := e.getDeployment(t, "todo-backend")
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "registry.example/todo-backend:1.4" {
		t.Errorf("image = %s after set_image", img)
	}
	if d.Status.UpdatedReplicas != 2 || d.Status.ReadyReplicas != 2 {
		t.Errorf("after the rollout %d updated, %d ready; want 2 and 2", d.Status.UpdatedReplicas, d.Status.ReadyReplicas)
	}

	wantNoChange(t, e.call(t, NameSetImage, map[string]any{"name": "todo-backend", "image": "registry.example/todo-backend:1.4"}))
}

func TestSetImageChoosesContainer(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1, containers: []corev1.Container{
		{Name: "app", Image: "registry.example/web:1.0"},
		{Name: "proxy", Image: "registry.example/envoy:1.30"},
	}})

	wantRefused(t, e.call(t, NameSetImage, map[string]any{"name": "web", "image": "registry.example/web:2.0"}),
		tools.ErrAmbiguous, "2 containers", "app, proxy")
	wantRefused(t, e.call(t, NameSetImage, map[string]any{"name": "web", "container": "sidecar", "image": "registry.example/web:2.0"}),
		tools.ErrNotFound, `no container "sidecar"`, "app, proxy")
	if d := e.getDeployment(t, "web"); d.Generation != 1 {
		t.Fatalf("refused calls changed the deployment (generation %d)", d.Generation)
	}

	rec := e.mustCall(t, NameSetImage, map[string]any{"name": "web", "container": "proxy", "image": "registry.example/envoy:1.31", "kind": "deploy"})
	wantPreview(t, rec, "deployment/web in "+e.Namespace+": container proxy image registry.example/envoy:1.30 → registry.example/envoy:1.31",
		tools.Write, tools.Target{Kind: "Deployment", Namespace: e.Namespace, Name: "web"})
	c := e.getDeployment(t, "web").Spec.Template.Spec.Containers
	if c[0].Image != "registry.example/web:1.0" || c[1].Image != "registry.example/envoy:1.31" {
		t.Errorf("images = %s, %s; want only proxy changed", c[0].Image, c[1].Image)
	}
}

func TestSetImageRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1})

	for _, args := range []map[string]any{
		{"name": "web", "image": "Registry.Example/Web:2"},
		{"name": "web", "image": "web:"},
		{"name": "web", "image": "web 2"},
		{"name": "web", "image": " web:2"},
		{"name": "web", "image": ""},
		{"name": "web"},
		{"name": "web", "image": "web:2", "kind": "job"},
		{"name": "web", "image": "web:2", "timeout_seconds": 99999},
	} {
		rec := e.call(t, NameSetImage, args)
		wantRefused(t, rec, tools.ErrInvalidArgs)
		if rec.Preview != nil {
			t.Errorf("%v: got a preview for invalid args", args)
		}
	}
	if d := e.getDeployment(t, "web"); d.Generation != 1 || d.Spec.Template.Spec.Containers[0].Image != "registry.example/web:1.0" {
		t.Errorf("deployment changed by invalid calls: generation %d, image %s", d.Generation, d.Spec.Template.Spec.Containers[0].Image)
	}
}

func TestSetImageConflict(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1})
	action := e.prepare(t, NameSetImage, map[string]any{"name": "web", "image": "registry.example/web:2.0"})

	d := e.getDeployment(t, "web")
	d.Labels["changed-by"] = "someone-else"
	if _, err := e.Client.AppsV1().Deployments(e.Namespace).Update(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("Run error = %v, want ErrConflict", err)
	}
	if img := e.getDeployment(t, "web").Spec.Template.Spec.Containers[0].Image; img != "registry.example/web:1.0" {
		t.Errorf("image = %s after a refused update, want registry.example/web:1.0", img)
	}
}

// A status update between the preview and the run (a controller's, an
// autoscaler's) is no conflict: the approved image is set.
func TestSetImageAfterStatusOnlyChange(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1})
	action := e.prepare(t, NameSetImage, map[string]any{"name": "web", "image": "registry.example/web:2.0", "wait": false})
	e.touchStatus(t, "web")
	if _, err := action.Run(t.Context()); err != nil {
		t.Fatalf("Run error = %v, want none", err)
	}
	if img := e.getDeployment(t, "web").Spec.Template.Spec.Containers[0].Image; img != "registry.example/web:2.0" {
		t.Errorf("image = %s, want registry.example/web:2.0", img)
	}
}

// An image that never pulls: the sandbox's ImagePullBackOff simulation
// makes the new pods fail, and the tool reports ErrNotConverged with their
// reason instead of success.
func TestSetImageNotConverged(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1, noWait: true,
		podLabels: map[string]string{"sim.opsagent.dev/state": "ImagePullBackOff"}})

	rec := e.call(t, NameSetImage, map[string]any{"name": "web", "image": "registry.example/web:does-not-exist", "timeout_seconds": 3})
	err := rec.Err()
	if !errors.Is(err, tools.ErrNotConverged) || !strings.Contains(err.Error(), "ImagePull") || !strings.Contains(err.Error(), "did not finish rolling out within 3s") {
		t.Fatalf("error = %v, want ErrNotConverged naming the pods' ImagePull failure", err)
	}
	if !rec.Changed() {
		t.Errorf("record = %+v, want it to say the change was made", rec)
	}
	res := resultAs[TemplateChangeResult](t, rec)
	if res.RolloutOutcome == nil || res.Converged || len(res.NotReadyPods) == 0 {
		t.Errorf("result = %+v, want an unconverged outcome listing pods", res)
	}
	if img := e.getDeployment(t, "web").Spec.Template.Spec.Containers[0].Image; img != "registry.example/web:does-not-exist" {
		t.Errorf("image = %s, want the new one (the change was made)", img)
	}
}

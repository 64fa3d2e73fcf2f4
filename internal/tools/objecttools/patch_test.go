package objecttools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

func TestPatchObject(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ns := e.Namespace
	e.mustCall(t, NameApplyObjects, map[string]any{"manifests": deploymentYAML("web", 2)})
	e.waitDeployment(t, "web", 2)

	// Strategic merge: the container list is merged by name.
	rec := e.mustCall(t, NamePatchObject, map[string]any{
		"kind": "deploy", "name": "web",
		"patch": `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"registry.example/web:2.0"}]}}}}`,
	})
	if want := "patch deployment/web in " + ns + " (strategic merge patch)"; rec.Preview.Summary != want {
		t.Errorf("summary = %q, want %q", rec.Preview.Summary, want)
	}
	if got := changedLines(rec.Preview.Diff); len(got) != 2 || !strings.HasSuffix(got[0], "image: registry.example/web:1.0") || !strings.HasSuffix(got[1], "image: registry.example/web:2.0") {
		t.Errorf("diff changes %q, want only the image line; diff:\n%s", got, rec.Preview.Diff)
	}
	if rec.Risk != tools.Write || len(rec.Preview.Targets) != 1 {
		t.Errorf("risk = %v, targets = %v", rec.Risk, rec.Preview.Targets)
	}
	d := e.waitDeployment(t, "web", 2)
	if cs := d.Spec.Template.Spec.Containers; len(cs) != 1 || cs[0].Name != "app" || cs[0].Image != "registry.example/web:2.0" {
		t.Errorf("containers = %+v, want app with the new image", cs)
	}

	// JSON merge patch.
	labels := map[string]any{"kind": "deployment", "name": "web", "patch_type": "merge", "patch": `{"metadata":{"labels":{"team":"payments"}}}`}
	rec = e.mustCall(t, NamePatchObject, labels)
	if !strings.Contains(rec.Preview.Summary, "JSON merge patch") || !strings.Contains(rec.Preview.Diff, "+    team: payments") {
		t.Errorf("merge preview = %q\n%s", rec.Preview.Summary, rec.Preview.Diff)
	}
	if d := e.waitDeployment(t, "web", 2); d.Labels["team"] != "payments" {
		t.Errorf("labels = %v, want team=payments", d.Labels)
	}
	// The same patch again changes nothing.
	if rec = e.mustCall(t, NamePatchObject, labels); !rec.Preview.NoChange || rec.Changed() {
		t.Errorf("repeated patch: NoChange = %v, preview %q", rec.Preview.NoChange, rec.Preview.Summary)
	}

	// Scaling to 0 by patch is destructive: --yes alone does not do it.
	zero := map[string]any{"kind": "deployment", "name": "web", "patch": `{"spec":{"replicas":0}}`}
	rec = e.call(t, NamePatchObject, zero)
	if rec.Risk != tools.Destructive || !errors.Is(rec.Err(), tools.ErrApprovalRequired) {
		t.Errorf("patch to 0 replicas: risk = %v, error = %v; want destructive and refused", rec.Risk, rec.Err())
	}
	if d := e.waitDeployment(t, "web", 2); *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %d although refused", *d.Spec.Replicas)
	}
	e.allow(true, false)
	e.mustCall(t, NamePatchObject, zero)
	e.waitDeployment(t, "web", 0)

	// A patch the API server rejects is bad input.
	rec = e.call(t, NamePatchObject, map[string]any{"kind": "deployment", "name": "web", "patch": `{"spec":{"replicas":"many"}}`})
	if !errors.Is(rec.Err(), tools.ErrInvalidArgs) {
		t.Errorf("invalid patch: error = %v, want ErrInvalidArgs", rec.Err())
	}
}

func TestPatchRefusesAnObjectChangedAfterThePreview(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ns := e.Namespace
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"mode": "a"}}
	if _, err := e.Client.CoreV1().ConfigMaps(ns).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	action := e.prepare(t, NamePatchObject, map[string]any{"kind": "cm", "name": "settings", "patch": `{"data":{"mode":"ours"}}`})
	cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"mode": "theirs"}}
	if _, err := e.Client.CoreV1().ConfigMaps(ns).Update(t.Context(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("error = %v, want ErrConflict", err)
	}
	if got := e.configMapData(t, "settings")["mode"]; got != "theirs" {
		t.Errorf("mode = %q, want the other writer's value kept", got)
	}
}

func TestPatchCustomResourceNeedsMerge(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	group := strings.ToLower(e.Namespace) + ".test.opsagent.dev"
	crdName := "widgets." + group
	u := obj(t, strings.ReplaceAll(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.GROUP
spec:
  group: GROUP
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`, "GROUP", group))
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := e.c.Dynamic.Resource(crdGVR).Create(t.Context(), u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	t.Cleanup(func() {
		_ = e.c.Dynamic.Resource(crdGVR).Delete(context.Background(), crdName, metav1.DeleteOptions{})
	})
	widgets := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": group + "/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w1"}, "spec": map[string]any{"size": int64(1)},
	}}
	// The CRD is served once it is established; retry until it is.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := e.c.Dynamic.Resource(widgets).Namespace(e.Namespace).Create(t.Context(), w, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("create widget: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}

	// Fresh clients, so the REST mapper discovers the new kind.
	c, err := kube.NewClients(e.Getter())
	if err != nil {
		t.Fatal(err)
	}
	e.gate.Registry = tools.NewRegistry(New(c)...)
	kind := crdName
	rec := e.call(t, NamePatchObject, map[string]any{"kind": kind, "name": "w1", "patch": `{"spec":{"size":2}}`})
	if !errors.Is(rec.Err(), tools.ErrInvalidArgs) || !strings.Contains(rec.Err().Error(), `patch_type "merge"`) {
		t.Fatalf("strategic patch of a custom resource: error = %v, want ErrInvalidArgs suggesting merge", rec.Err())
	}
	rec = e.mustCall(t, NamePatchObject, map[string]any{"kind": kind, "name": "w1", "patch": `{"spec":{"size":2}}`, "patch_type": "merge"})
	if !strings.Contains(rec.Preview.Diff, "+  size: 2") {
		t.Errorf("merge preview diff:\n%s", rec.Preview.Diff)
	}
	got, err := e.c.Dynamic.Resource(widgets).Namespace(e.Namespace).Get(t.Context(), "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if size, _, _ := unstructured.NestedInt64(got.Object, "spec", "size"); size != 2 {
		t.Errorf("size = %d, want 2 (%s)", size, fmt.Sprint(got.Object["spec"]))
	}
}

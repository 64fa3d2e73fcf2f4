package objecttools

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
)

const webService = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
`

func TestApplyCreateUnchangedUpdate(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ns := e.Namespace

	// Create: the preview says so, then both objects exist, owned by opsagent.
	rec := e.mustCall(t, NameApplyObjects, map[string]any{"manifests": deploymentYAML("web", 1) + "---\n" + webService})
	for _, want := range []string{"create deployment/web in " + ns, "create service/web in " + ns} {
		if !strings.Contains(rec.Preview.Summary, want) {
			t.Errorf("preview %q does not say %q", rec.Preview.Summary, want)
		}
	}
	wantTargets := []tools.Target{{Kind: "Deployment", Namespace: ns, Name: "web"}, {Kind: "Service", Namespace: ns, Name: "web"}}
	if !slices.Equal(rec.Preview.Targets, wantTargets) {
		t.Errorf("targets = %v, want %v", rec.Preview.Targets, wantTargets)
	}
	if rec.Risk != tools.Write || len(rec.Privileged) != 0 {
		t.Errorf("risk = %v, privileged = %v; want an ordinary write", rec.Risk, rec.Privileged)
	}
	d, err := e.Client.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("deployment not created: %v", err)
	}
	if !slices.ContainsFunc(d.ManagedFields, func(m metav1.ManagedFieldsEntry) bool {
		return m.Manager == FieldManager && m.Operation == metav1.ManagedFieldsOperationApply
	}) {
		t.Errorf("deployment is not server-side applied by %q: %+v", FieldManager, d.ManagedFields)
	}
	if _, err := e.Client.CoreV1().Services(ns).Get(t.Context(), "web", metav1.GetOptions{}); err != nil {
		t.Fatalf("service not created: %v", err)
	}
	e.waitDeployment(t, "web", 1)

	// The same manifests again: nothing to do, nothing written.
	rec = e.mustCall(t, NameApplyObjects, map[string]any{"manifests": deploymentYAML("web", 1) + "---\n" + webService})
	if !rec.Preview.NoChange || rec.Changed() {
		t.Errorf("re-apply: NoChange = %v, changed = %v, preview %q; want no change", rec.Preview.NoChange, rec.Changed(), rec.Preview.Summary)
	}

	// More replicas: an update whose diff is the replicas line alone.
	rec = e.mustCall(t, NameApplyObjects, map[string]any{"manifests": deploymentYAML("web", 3) + "---\n" + webService})
	for _, want := range []string{"update deployment/web in " + ns, "service/web in " + ns + ": unchanged"} {
		if !strings.Contains(rec.Preview.Summary, want) {
			t.Errorf("preview %q does not say %q", rec.Preview.Summary, want)
		}
	}
	if got, want := changedLines(rec.Preview.Diff), []string{"-  replicas: 1", "+  replicas: 3"}; !slices.Equal(got, want) {
		t.Errorf("diff changes %q, want %q; diff:\n%s", got, want, rec.Preview.Diff)
	}
	if d := e.waitDeployment(t, "web", 3); *d.Spec.Replicas != 3 {
		t.Errorf("replicas = %d, want 3", *d.Spec.Replicas)
	}
}

func TestApplyRefusesAnObjectChangedAfterThePreview(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ns := e.Namespace
	e.mustCall(t, NameApplyObjects, map[string]any{"manifests": deploymentYAML("web", 1)})
	e.waitDeployment(t, "web", 1)

	action := e.prepare(t, NameApplyObjects, map[string]any{"manifests": deploymentYAML("web", 3)})
	// Another writer changes the deployment after the preview, in fields
	// the manifest does not set: only the resourceVersion precondition
	// (not field ownership) can notice.
	d, err := e.Client.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.MinReadySeconds = 5
	d.Labels = map[string]string{"changed-by": "someone-else"}
	if _, err := e.Client.AppsV1().Deployments(ns).Update(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("run after a concurrent change: error = %v, want ErrConflict", err)
	}
	d, err = e.Client.AppsV1().Deployments(ns).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 1 || d.Spec.MinReadySeconds != 5 || d.Labels["changed-by"] != "someone-else" {
		t.Errorf("replicas %d, minReadySeconds %d, labels %v: want the other writer's change kept and the stale apply not made",
			*d.Spec.Replicas, d.Spec.MinReadySeconds, d.Labels)
	}

	// A create is refused when the object appeared meanwhile.
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: ours\n"
	action = e.prepare(t, NameApplyObjects, map[string]any{"manifests": cm})
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"mode": "theirs"}}
	if _, err := e.Client.CoreV1().ConfigMaps(ns).Create(t.Context(), theirs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("create of an object that appeared meanwhile: error = %v, want ErrConflict", err)
	}
	if got := e.configMapData(t, "settings")["mode"]; got != "theirs" {
		t.Errorf("mode = %q, want the other writer's %q", got, "theirs")
	}
}

func TestApplyGoesAheadAfterAChangeThePreviewDidNotShow(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ns := e.Namespace
	cm := func(mode string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: " + mode + "\n"
	}
	e.mustCall(t, NameApplyObjects, map[string]any{"manifests": cm("a")})
	action := e.prepare(t, NameApplyObjects, map[string]any{"manifests": cm("b")})
	// A tool rewrites only an annotation previews never show: the
	// resourceVersion moves, the content the preview showed does not.
	live, err := e.Client.CoreV1().ConfigMaps(ns).Get(t.Context(), "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}
	if _, err := e.Client.CoreV1().ConfigMaps(ns).Update(t.Context(), live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(t.Context()); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := e.configMapData(t, "settings")["mode"]; got != "b" {
		t.Errorf("mode = %q, want b", got)
	}
}

func TestApplyShowsFieldManagerConflictsAndNeverForces(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ns := e.Namespace
	theirs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "settings", "namespace": ns},
		"data":     map[string]any{"mode": "a"},
	}}
	cms := e.c.Dynamic.Resource(gvrConfigMaps).Namespace(ns)
	if _, err := cms.Apply(t.Context(), "settings", theirs, metav1.ApplyOptions{FieldManager: "other-team"}); err != nil {
		t.Fatal(err)
	}

	rec := e.call(t, NameApplyObjects, map[string]any{"manifests": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: b\n"})
	var fc *FieldConflictError
	if !errors.As(rec.Err(), &fc) {
		t.Fatalf("error = %v, want a FieldConflictError", rec.Err())
	}
	if len(fc.Conflicts) != 1 || !strings.Contains(fc.Conflicts[0].Field, "data.mode") || !strings.Contains(fc.Conflicts[0].Owner, "other-team") {
		t.Errorf("conflicts = %+v, want .data.mode owned by other-team", fc.Conflicts)
	}
	if msg := rec.Err().Error(); !strings.Contains(msg, "patch_object") || !strings.Contains(msg, "never") {
		t.Errorf("error %q should say it is never forced and suggest patch_object", msg)
	}
	if rec.Approved {
		t.Error("a conflicting apply was approved")
	}
	if got := e.configMapData(t, "settings")["mode"]; got != "a" {
		t.Errorf("mode = %q: the conflict was forced", got)
	}

	// What the error suggests works: a patch does not take ownership.
	e.mustCall(t, NamePatchObject, map[string]any{"kind": "configmap", "name": "settings", "patch": `{"data":{"mode":"b"}}`, "patch_type": "merge"})
	if got := e.configMapData(t, "settings")["mode"]; got != "b" {
		t.Errorf("after patch_object mode = %q, want b", got)
	}
}

func TestApplyPrivilegedObjects(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ns := e.Namespace
	rbac := strings.ReplaceAll(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: reader
subjects:
- kind: ServiceAccount
  name: default
  namespace: NS
`, "NS", ns)
	hostPath := `apiVersion: v1
kind: Pod
metadata:
  name: node-reader
spec:
  containers:
  - name: c
    image: busybox
  volumes:
  - name: root
    hostPath:
      path: /
`
	tests := []struct {
		name      string
		manifests string
		reasons   []string
		created   func() error
	}{
		{
			name: "role and binding", manifests: rbac,
			reasons: []string{"role/reader", "rolebinding/reader"},
			created: func() error {
				_, err := e.Client.RbacV1().RoleBindings(ns).Get(t.Context(), "reader", metav1.GetOptions{})
				return err
			},
		},
		{
			name: "hostPath pod", manifests: hostPath,
			reasons: []string{"hostPath"},
			created: func() error {
				_, err := e.Client.CoreV1().Pods(ns).Get(t.Context(), "node-reader", metav1.GetOptions{})
				return err
			},
		},
	}
	for _, tt := range tests {
		e.allow(false, false)
		rec := e.call(t, NameApplyObjects, map[string]any{"manifests": tt.manifests})
		if !errors.Is(rec.Err(), tools.ErrApprovalRequired) || !strings.Contains(rec.Err().Error(), "--allow-privileged") {
			t.Errorf("%s: error = %v, want ErrApprovalRequired naming --allow-privileged", tt.name, rec.Err())
		}
		for _, r := range tt.reasons {
			if !slices.ContainsFunc(rec.Privileged, func(p string) bool { return strings.Contains(p, r) }) {
				t.Errorf("%s: privileged = %q, want a reason about %s", tt.name, rec.Privileged, r)
			}
		}
		if err := tt.created(); !apierrors.IsNotFound(err) {
			t.Errorf("%s: created although refused (get: %v)", tt.name, err)
		}
	}

	// With the flag, the RBAC objects are created; deleting one is privileged too.
	e.allow(false, true)
	e.mustCall(t, NameApplyObjects, map[string]any{"manifests": rbac})
	if err := tests[0].created(); err != nil {
		t.Fatalf("rolebinding not created with --allow-privileged: %v", err)
	}
	e.allow(true, false)
	rec := e.call(t, NameDeleteObject, map[string]any{"kind": "rolebinding", "name": "reader"})
	if !errors.Is(rec.Err(), tools.ErrApprovalRequired) || len(rec.Privileged) == 0 {
		t.Errorf("delete rolebinding: error = %v, privileged = %v; want refused as privileged", rec.Err(), rec.Privileged)
	}
}

func TestApplyOutsideTheScopeIsAsked(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	other := testcluster.New(t)
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\n  namespace: " + other.Namespace + "\ndata:\n  a: b\n"
	rec := e.call(t, NameApplyObjects, map[string]any{"manifests": cm, "namespace": e.Namespace})
	if !errors.Is(rec.Err(), tools.ErrApprovalRequired) {
		t.Fatalf("error = %v, want ErrApprovalRequired: --yes covers %s only", rec.Err(), e.Namespace)
	}
	if want := (tools.Target{Kind: "ConfigMap", Namespace: other.Namespace, Name: "elsewhere"}); len(rec.Preview.Targets) != 1 || rec.Preview.Targets[0] != want {
		t.Errorf("targets = %v, want %v (the namespace as written)", rec.Preview.Targets, want)
	}
	if _, err := other.Client.CoreV1().ConfigMaps(other.Namespace).Get(t.Context(), "elsewhere", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("configmap created outside the scope (get: %v)", err)
	}
}

func TestApplySecretValuesNeverShown(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	secret := func(pw string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  user: admin\n  password: " + pw + "\n"
	}
	rec := e.mustCall(t, NameApplyObjects, map[string]any{"manifests": secret("hunter2")})
	leaks := []string{"hunter2", "aHVudGVyMg==", "s3cret-2", "czNjcmV0LTI=", "YWRtaW4="}
	check := func(what string, rec *tools.Record) {
		t.Helper()
		for _, l := range leaks {
			if strings.Contains(rec.Preview.Summary+rec.Preview.Diff, l) {
				t.Errorf("%s preview leaks %q:\n%s", what, l, rec.Preview.Diff)
			}
		}
	}
	check("create", rec)
	if !strings.Contains(rec.Preview.Diff, "+  password: (redacted, changed)") {
		t.Errorf("create preview should list the key:\n%s", rec.Preview.Diff)
	}
	rec = e.mustCall(t, NameApplyObjects, map[string]any{"manifests": secret("s3cret-2")})
	check("update", rec)
	if got := changedLines(rec.Preview.Diff); !slices.Equal(got, []string{"-  password: (redacted)", "+  password: (redacted, changed)"}) {
		t.Errorf("update diff changes %q, want only password marked changed:\n%s", got, rec.Preview.Diff)
	}
	s, err := e.Client.CoreV1().Secrets(e.Namespace).Get(t.Context(), "db", metav1.GetOptions{})
	if err != nil || string(s.Data["password"]) != "s3cret-2" {
		t.Errorf("secret password = %q, %v; want the new value", s.Data["password"], err)
	}
}

func TestApplyBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	good := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: must-not-exist\ndata:\n  a: b\n---\n"
	tests := []struct {
		name, manifests, want string
	}{
		{"invalid yaml", good + "kind: [Deployment\n", "not valid YAML"},
		{"unknown kind", good + "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n", "common kinds"},
		{"too large", good + "# " + strings.Repeat("x", 20<<10) + "\n", "bytes"},
		{"too many objects", strings.Repeat(good, maxObjects+1), "more than 50 objects"},
		{"twice", good + good, "appears twice"},
		{"rejected by the API server", good + "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: broken\nspec:\n  replicas: 1\n", "rejects deployment/broken"},
	}
	for _, tt := range tests {
		rec := e.call(t, NameApplyObjects, map[string]any{"manifests": tt.manifests})
		if !errors.Is(rec.Err(), tools.ErrInvalidArgs) || !strings.Contains(rec.Err().Error(), tt.want) {
			t.Errorf("%s: error = %v, want ErrInvalidArgs mentioning %q", tt.name, rec.Err(), tt.want)
		}
	}
	if _, err := e.Client.CoreV1().ConfigMaps(e.Namespace).Get(t.Context(), "must-not-exist", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a bad request changed the cluster (get: %v)", err)
	}
}

func (e *clusterEnv) configMapData(t *testing.T, name string) map[string]string {
	t.Helper()
	cm, err := e.Client.CoreV1().ConfigMaps(e.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get configmap %s: %v", name, err)
	}
	return cm.Data
}

package objecttools

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

func TestParseManifests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		wantNames []string
		wantErr   string
	}{
		{
			name:      "yaml documents, empty ones skipped",
			in:        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n",
			wantNames: []string{"ConfigMap/a", "Service/b"},
		},
		{
			name:      "json",
			in:        `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`,
			wantNames: []string{"ConfigMap/a"},
		},
		{
			name:      "a List is expanded",
			in:        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: b\n",
			wantNames: []string{"ConfigMap/a", "Deployment/b"},
		},
		{name: "invalid yaml", in: "apiVersion: v1\nkind: [ConfigMap\n", wantErr: "document 1 is not valid YAML or JSON"},
		{name: "not an object", in: "- a\n- b\n", wantErr: "document 1 is not an object"},
		{name: "no name", in: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: x-\n", wantErr: "ConfigMap has no metadata.name (generateName is not supported"},
		{name: "no kind", in: "apiVersion: v1\nmetadata:\n  name: x\n", wantErr: "has no kind"},
		{name: "nothing", in: "---\n---\n", wantErr: "hold no object"},
		{name: "too many", in: strings.Repeat("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n", maxObjects+1), wantErr: "more than 50 objects"},
		{name: "too large", in: strings.Repeat("#", maxManifestBytes+1), wantErr: "more than the 1048576 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs, err := parseManifests(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.GetKind()+"/"+o.GetName())
			}
			if strings.Join(got, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("objects = %v, want %v", got, tt.wantNames)
			}
		})
	}
}

func TestParseManifestsKeepsIntegers(t *testing.T) {
	t.Parallel()
	objs, err := parseManifests("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  replicas: 3\n")
	if err != nil {
		t.Fatal(err)
	}
	if n, ok, err := unstructured.NestedInt64(objs[0].Object, "spec", "replicas"); !ok || err != nil || n != 3 {
		t.Errorf("replicas = %v, %v, %v; want int64 3", n, ok, err)
	}
}

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	objs, err := parseManifests(y)
	if err != nil {
		t.Fatal(err)
	}
	return objs[0]
}

func TestObjectDiffStripsServerFieldsAndRedactsSecrets(t *testing.T) {
	t.Parallel()
	live := obj(t, `apiVersion: v1
kind: Secret
metadata:
  name: s
  resourceVersion: "10"
  uid: abc
  creationTimestamp: "2024-01-01T00:00:00Z"
  managedFields: [{manager: x}]
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"password":"b2xk"}}'
data:
  password: b2xk
  user: YWRtaW4=
`)
	after := obj(t, `apiVersion: v1
kind: Secret
metadata:
  name: s
  resourceVersion: "11"
  uid: abc
data:
  password: bmV3
  user: YWRtaW4=
`)
	r := objectRef{Kind: "Secret", Name: "s", Namespace: "ns"}
	diff, changed, err := objectDiff(r, live, after)
	if err != nil || !changed {
		t.Fatalf("changed = %v, err = %v; want a change", changed, err)
	}
	for _, leak := range []string{"b2xk", "bmV3", "YWRtaW4="} {
		if strings.Contains(diff, leak) {
			t.Errorf("diff leaks %q:\n%s", leak, diff)
		}
	}
	if !strings.Contains(diff, "+  password: (redacted, changed)") || strings.Contains(diff, "+  user:") {
		t.Errorf("diff should mark password changed and leave user as context:\n%s", diff)
	}
	for _, noise := range []string{"resourceVersion", "uid", "managedFields", "creationTimestamp", "last-applied"} {
		if strings.Contains(diff, noise) {
			t.Errorf("diff shows server-set %s:\n%s", noise, diff)
		}
	}

	// Only server-set fields differ: no change.
	same := live.DeepCopy()
	same.SetResourceVersion("99")
	same.Object["status"] = map[string]any{"x": int64(1)}
	if _, changed, _ := objectDiff(r, live, same); changed {
		t.Error("a resourceVersion/status difference counted as a change")
	}
}

func TestScaledToZero(t *testing.T) {
	t.Parallel()
	dep := func(replicas any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"kind": "Deployment", "spec": map[string]any{}}}
		if replicas != nil {
			u.Object["spec"].(map[string]any)["replicas"] = replicas
		}
		return u
	}
	tests := []struct {
		name        string
		live, after *unstructured.Unstructured
		want        bool
	}{
		{"3 to 0", dep(int64(3)), dep(int64(0)), true},
		{"default (1) to 0", dep(nil), dep(int64(0)), true},
		{"0 to 0", dep(int64(0)), dep(int64(0)), false},
		{"3 to 1", dep(int64(3)), dep(int64(1)), false},
		{"created with 0", nil, dep(int64(0)), false},
		{"no replicas field", dep(nil), dep(nil), false},
	}
	for _, tt := range tests {
		if got := scaledToZero(tt.live, tt.after); got != tt.want {
			t.Errorf("%s: scaledToZero = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBoundPatch(t *testing.T) {
	t.Parallel()
	p, err := parsePatch(`{"metadata":{"labels":{"a":"b"},"resourceVersion":"1"},"spec":{"replicas":2}}`)
	if err != nil {
		t.Fatal(err)
	}
	data, err := boundPatch(p, "42")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	md := got["metadata"].(map[string]any)
	if md["resourceVersion"] != "42" || md["labels"].(map[string]any)["a"] != "b" || got["spec"].(map[string]any)["replicas"] != 2.0 {
		t.Errorf("bound patch = %s", data)
	}
	// The caller's patch is not modified.
	if p["metadata"].(map[string]any)["resourceVersion"] != "1" {
		t.Error("boundPatch changed its input")
	}
}

func TestPatchArgsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    PatchObjectArgs
		wantErr string
	}{
		{"ok", PatchObjectArgs{Kind: "deployment", Name: "web", Patch: `{"spec":{"replicas":2}}`}, ""},
		{"merge", PatchObjectArgs{Kind: "deployment", Name: "web", Patch: `{"spec":{}}`, PatchType: "merge"}, ""},
		{"json patch type", PatchObjectArgs{Kind: "deployment", Name: "web", Patch: `{"spec":{}}`, PatchType: "json"}, "not supported"},
		{"not json", PatchObjectArgs{Kind: "deployment", Name: "web", Patch: `spec: {}`}, "must be a JSON object"},
		{"array", PatchObjectArgs{Kind: "deployment", Name: "web", Patch: `[{"op":"add"}]`}, "must be a JSON object"},
		{"empty", PatchObjectArgs{Kind: "deployment", Name: "web", Patch: `{}`}, "empty"},
		{"metadata not an object", PatchObjectArgs{Kind: "deployment", Name: "web", Patch: `{"metadata":"x"}`}, "metadata must be an object"},
		{"no kind", PatchObjectArgs{Name: "web", Patch: `{"a":1}`}, "kind is required"},
		{"bad namespace", PatchObjectArgs{Kind: "cm", Name: "web", Namespace: "No_Such", Patch: `{"a":1}`}, "not a valid namespace"},
	}
	for _, tt := range tests {
		err := tt.args.Validate()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestDescribeGroups(t *testing.T) {
	t.Parallel()
	objs := []object{{kind: "ReplicaSet", name: "web-1"}}
	for i := range 7 {
		objs = append(objs, object{kind: "Pod", name: "web-1-" + string(rune('a'+i))})
	}
	objs = append(objs, object{kind: "NetworkPolicy", name: "np"}, object{kind: "NetworkPolicy", name: "np2"})
	want := "1 replicaset (web-1), 7 pods (web-1-a, web-1-b, web-1-c, web-1-d, web-1-e, … and 2 more), 2 networkpolicies (np, np2)"
	if got := describeGroups(objs); got != want {
		t.Errorf("describeGroups =\n%s\nwant\n%s", got, want)
	}
}

func TestOwnerIndexDependents(t *testing.T) {
	t.Parallel()
	rs := object{kind: "ReplicaSet", name: "web-1", uid: "rs"}
	p1 := object{kind: "Pod", name: "web-1-a", uid: "p1"}
	p2 := object{kind: "Pod", name: "web-1-b", uid: "p2"}
	idx := &ownerIndex{children: map[types.UID][]object{
		"dep": {rs},
		"rs":  {p1, p2},
		"p2":  {rs}, // a cycle must not loop
		"x":   {{kind: "Pod", name: "other", uid: "o"}},
	}}
	got := describeGroups(idx.dependents("dep"))
	if want := "1 replicaset (web-1), 2 pods (web-1-a, web-1-b)"; got != want {
		t.Errorf("dependents = %s, want %s", got, want)
	}
}

package release

import (
	"slices"
	"strings"
	"testing"
)

const sampleManifest = `---
# Source: todo-chatbot/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: todo-secret
  annotations:
    helm.sh/resource-policy: keep
data:
  JWT_SECRET: c2VjcmV0
---
# Source: todo-chatbot/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: todo-config
  namespace: other
data:
  LOG_LEVEL: info
---
# Source: todo-chatbot/templates/empty.yaml
---
# Source: todo-chatbot/templates/pvc.yaml
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: todo-data
  annotations:
    helm.sh/resource-policy: " Keep "
spec: {}
`

func TestParseManifest(t *testing.T) {
	t.Parallel()
	objs, err := parseManifest(sampleManifest)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.String()+"@"+o.Namespace)
		if strings.Contains(o.Body, "# Source:") {
			t.Errorf("%s body keeps Helm's source comment", o.Object)
		}
	}
	if want := []string{"Secret/todo-secret@", "ConfigMap/todo-config@other", "PersistentVolumeClaim/todo-data@"}; !slices.Equal(got, want) {
		t.Errorf("objects = %v, want %v", got, want)
	}
	if !objs[0].Keep || objs[1].Keep || !objs[2].Keep {
		t.Errorf("keep = %v %v %v, want true false true (the policy is case- and space-insensitive, as in Helm)", objs[0].Keep, objs[1].Keep, objs[2].Keep)
	}
	if objs[0].APIVersion != "v1" {
		t.Errorf("apiVersion = %q", objs[0].APIVersion)
	}
}

func TestParseManifestKeepsOrderPastNine(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 12 {
		b.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm" + string(rune('a'+i)) + "\n")
	}
	objs, err := parseManifest(b.String())
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range objs {
		if want := "cm" + string(rune('a'+i)); o.Name != want {
			t.Fatalf("object %d is %s, want %s (manifest-10 sorted before manifest-2?)", i, o.Name, want)
		}
	}
}

func TestRedactSecretPair(t *testing.T) {
	t.Parallel()
	old := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  SAME: c2FtZQ==\n  CHANGED: b2xk\n  GONE: Z29uZQ==\n"
	neu := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  SAME: c2FtZQ==\n  CHANGED: bmV3\n  ADDED: YWRkZWQ=\nstringData:\n  PLAIN: hunter2\n"
	gotOld, gotNew := redactSecretPair(old, neu)
	wantOld := "apiVersion: v1\ndata:\n  CHANGED: (redacted)\n  GONE: (redacted)\n  SAME: (redacted)\nkind: Secret\nmetadata:\n  name: s\n"
	wantNew := "apiVersion: v1\ndata:\n  ADDED: (redacted, changed)\n  CHANGED: (redacted, changed)\n  SAME: (redacted)\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  PLAIN: (redacted, changed)\n"
	if gotOld != wantOld {
		t.Errorf("old side:\n%s\nwant:\n%s", gotOld, wantOld)
	}
	if gotNew != wantNew {
		t.Errorf("new side:\n%s\nwant:\n%s", gotNew, wantNew)
	}

	// A created Secret: nothing to compare, every value hidden.
	if _, created := redactSecretPair("", neu); strings.Contains(created, "hunter2") || strings.Contains(created, "bmV3") {
		t.Errorf("created secret leaks a value:\n%s", created)
	}
	// Unparsable input is hidden whole.
	o, n := redactSecretPair("data: [", neu)
	if o != redactedHidden || n != redactedHidden {
		t.Errorf("unparsable pair = %q, %q", o, n)
	}
}

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

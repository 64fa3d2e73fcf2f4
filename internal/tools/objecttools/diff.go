package objecttools

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/opsagent/opsagent/internal/manifestdiff"
)

// serverSetMetadata are the metadata fields the API server or controllers
// set; they change on every write and say nothing about the change itself.
var serverSetMetadata = []string{
	"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink",
}

// serverSetAnnotations are annotations written by tools and controllers.
// kubectl's last-applied-configuration can also carry a Secret's values in
// clear text, so it never reaches a preview.
var serverSetAnnotations = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
	"deployment.kubernetes.io/revision",
}

// maxDiffBytes bounds one preview's diff text: previews go to people and to
// models, and a create of a large object is mostly defaults.
const maxDiffBytes = 32 << 10

// withoutServerFields returns a copy of obj without status and server-set metadata:
// what a person changes with a manifest or a patch.
func withoutServerFields(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	c := obj.DeepCopy()
	delete(c.Object, "status")
	for _, f := range serverSetMetadata {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	if ann := c.GetAnnotations(); ann != nil {
		for _, a := range serverSetAnnotations {
			delete(ann, a)
		}
		if len(ann) == 0 {
			unstructured.RemoveNestedField(c.Object, "metadata", "annotations")
		} else {
			c.SetAnnotations(ann)
		}
	}
	return c
}

// bodyOf renders a comparable object as YAML; nil renders as "".
func bodyOf(obj *unstructured.Unstructured) (string, error) {
	if obj == nil {
		return "", nil
	}
	b, err := yaml.Marshal(withoutServerFields(obj).Object)
	if err != nil {
		return "", fmt.Errorf("render %s/%s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return string(b), nil
}

// objectDiff compares the live object (nil: it does not exist) with the
// object after the change (nil: it is deleted). changed says whether they
// differ in anything but server-set fields; diff is the unified diff, with
// Secret values redacted (keys stay visible, changed values are marked).
func objectDiff(r objectRef, live, after *unstructured.Unstructured) (diff string, changed bool, err error) {
	oldBody, err := bodyOf(live)
	if err != nil {
		return "", false, err
	}
	newBody, err := bodyOf(after)
	if err != nil {
		return "", false, err
	}
	if live != nil && after != nil && oldBody == newBody {
		return "", false, nil
	}
	if r.Kind == "Secret" && r.GVR.Group == "" {
		oldBody, newBody = manifestdiff.RedactSecretPair(oldBody, newBody)
	}
	from, to := r.short()+" (live)", r.short()+" (after the change)"
	if live == nil {
		from = "/dev/null"
	}
	if after == nil {
		to = "/dev/null"
	}
	return manifestdiff.Unified(from, to, oldBody, newBody), true, nil
}

// capDiff cuts a preview's diff text at maxDiffBytes, on a line boundary.
func capDiff(s string) string {
	if len(s) <= maxDiffBytes {
		return s
	}
	cut := s[:maxDiffBytes]
	for i := len(cut) - 1; i >= 0; i-- {
		if cut[i] == '\n' {
			cut = cut[:i+1]
			break
		}
	}
	return cut + fmt.Sprintf("… diff cut at %d KiB of %d KiB\n", maxDiffBytes>>10, (len(s)+1023)>>10)
}

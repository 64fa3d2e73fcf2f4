package objecttools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Bounds on one apply_objects call.
const (
	maxObjects       = 50
	maxManifestBytes = 1 << 20
)

// parseManifests splits YAML or JSON text into objects: documents separated
// by "---", empty documents skipped, List kinds (v1 List, DeploymentList ...)
// expanded into their items. Every object must name its apiVersion, kind and
// metadata.name (server-side apply needs the name; generateName is not
// supported). Errors name the document and are meant for ErrInvalidArgs.
func parseManifests(text string) ([]*unstructured.Unstructured, error) {
	if len(text) > maxManifestBytes {
		return nil, fmt.Errorf("manifests are %d bytes, more than the %d allowed; apply them in parts", len(text), maxManifestBytes)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	var out []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d is not valid YAML or JSON: %v", doc, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue // an empty document, e.g. after a leading "---"
		}
		// utiljson keeps whole numbers as int64, as the API machinery expects.
		var m map[string]any
		if err := utiljson.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("document %d is not an object (a mapping with apiVersion, kind, metadata): %v", doc, err)
		}
		if len(m) == 0 {
			continue // "null" or "{}"
		}
		u := &unstructured.Unstructured{Object: m}
		items := []*unstructured.Unstructured{u}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("document %d (%s): %v", doc, u.GetKind(), err)
			}
			items = items[:0]
			for i := range list.Items {
				items = append(items, &list.Items[i])
			}
		}
		for _, it := range items {
			if err := checkObject(it); err != nil {
				return nil, fmt.Errorf("document %d: %v", doc, err)
			}
			out = append(out, it)
			if len(out) > maxObjects {
				return nil, fmt.Errorf("more than %d objects; apply them in parts", maxObjects)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("manifests hold no object; give one or more YAML or JSON documents with apiVersion, kind and metadata.name")
	}
	return out, nil
}

// checkObject rejects an object the API could not apply by name.
func checkObject(u *unstructured.Unstructured) error {
	var missing []string
	if u.GetAPIVersion() == "" {
		missing = append(missing, "apiVersion")
	}
	if u.GetKind() == "" {
		missing = append(missing, "kind")
	}
	if u.GetName() == "" {
		missing = append(missing, "metadata.name")
	}
	if len(missing) > 0 {
		what := u.GetKind()
		if what == "" {
			what = "an object"
		}
		hint := ""
		if u.GetGenerateName() != "" {
			hint = " (generateName is not supported: apply needs a fixed name)"
		}
		return fmt.Errorf("%s has no %s%s", what, strings.Join(missing, ", "), hint)
	}
	return nil
}

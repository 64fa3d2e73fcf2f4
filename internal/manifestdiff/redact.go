package manifestdiff

import (
	"sigs.k8s.io/yaml"
)

// Markers that stand in for Secret values in previews. Previews are shown to
// people and sent to language models, so no credential may appear in them,
// but whether a credential changes is worth knowing before confirming.
const (
	Redacted        = "(redacted)"
	RedactedChanged = "(redacted, changed)"
	RedactedHidden  = "# Secret content hidden: it could not be parsed for redaction.\n"
)

// secretDataFields are the Secret fields that hold values.
var secretDataFields = []string{"data", "stringData"}

// RedactSecretPair redacts the values of a Secret in its live (old) and
// proposed (new) form. A value the change alters or adds reads
// "(redacted, changed)" on the new side; everything else reads "(redacted)".
// Either body may be "" (object created or deleted).
func RedactSecretPair(oldBody, newBody string) (string, string) {
	oldObj, okOld := parseObject(oldBody)
	newObj, okNew := parseObject(newBody)
	if !okOld || !okNew {
		return hideUnparsed(oldBody), hideUnparsed(newBody)
	}
	for _, field := range secretDataFields {
		oldData, _ := oldObj[field].(map[string]any)
		newData, _ := newObj[field].(map[string]any)
		for k, nv := range newData {
			ov, had := oldData[k]
			if had && ov == nv {
				newData[k] = Redacted
			} else {
				newData[k] = RedactedChanged
			}
		}
		for k := range oldData {
			oldData[k] = Redacted
		}
	}
	return marshalObject(oldObj, oldBody), marshalObject(newObj, newBody)
}

// parseObject parses a manifest document; "" parses to a nil map.
func parseObject(body string) (map[string]any, bool) {
	if body == "" {
		return nil, true
	}
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(body), &obj); err != nil {
		return nil, false
	}
	return obj, true
}

func marshalObject(obj map[string]any, orig string) string {
	if orig == "" {
		return ""
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return RedactedHidden
	}
	return string(out)
}

// hideUnparsed replaces a non-empty body wholesale. It is used on both sides
// as soon as either fails to parse: values that cannot be compared with the
// other side's are better not shown at all.
func hideUnparsed(body string) string {
	if body == "" {
		return ""
	}
	return RedactedHidden
}

package kubetools

import (
	"fmt"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
)

// SecretDetail shows a Secret's shape and never its content: values, and
// annotations (which may hold the applied manifest), are left out entirely.
type SecretDetail struct {
	Type           string    `json:"type"`
	Keys           []DataKey `json:"keys"`
	AnnotationKeys []string  `json:"annotationKeys,omitempty"`
}

// DataKey is one key of a Secret or ConfigMap. Value is set only for
// ConfigMap text values.
type DataKey struct {
	Key   string `json:"key"`
	Bytes int    `json:"bytes"`
	Value string `json:"value,omitempty"`
}

// describeSecret reads only key names and sizes. It is the one place that
// touches a Secret's data, and it never copies a value.
func describeSecret(s *corev1.Secret) *SecretDetail {
	d := &SecretDetail{Type: string(s.Type), Keys: []DataKey{}, AnnotationKeys: sortedKeys(s.Annotations)}
	for _, k := range sortedKeys(s.Data) {
		d.Keys = append(d.Keys, DataKey{Key: k, Bytes: len(s.Data[k])})
	}
	// stringData is write-only and never served, but a converted object
	// could carry it; count it without reading it.
	for _, k := range sortedKeys(s.StringData) {
		d.Keys = append(d.Keys, DataKey{Key: k, Bytes: len(s.StringData[k])})
	}
	return d
}

// ConfigMapDetail shows a ConfigMap's keys with their (shortened) values:
// configuration is often the answer to "why does it crash".
type ConfigMapDetail struct {
	Keys []DataKey `json:"keys"`
	Note string    `json:"note,omitempty"`
}

// Bounds for ConfigMap values in a description.
const (
	maxConfigValueLen   = 512
	maxConfigValueTotal = 4096
)

func describeConfigMap(cm *corev1.ConfigMap) *ConfigMapDetail {
	d := &ConfigMapDetail{Keys: []DataKey{}}
	budget, omitted := maxConfigValueTotal, 0
	for _, k := range sortedKeys(cm.Data) {
		v := cm.Data[k]
		dk := DataKey{Key: k, Bytes: len(v)}
		switch {
		case !utf8.ValidString(v):
		case budget > 0:
			dk.Value = truncate(v, min(maxConfigValueLen, budget))
			budget -= len(dk.Value)
		default:
			omitted++
		}
		d.Keys = append(d.Keys, dk)
	}
	for _, k := range sortedKeys(cm.BinaryData) {
		d.Keys = append(d.Keys, DataKey{Key: k, Bytes: len(cm.BinaryData[k])})
	}
	if omitted > 0 {
		d.Note = fmt.Sprintf("values of %d keys omitted to keep the output small", omitted)
	}
	return d
}

package diagnose

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ConfigRef is one reference from a pod spec to a Secret or ConfigMap.
type ConfigRef struct {
	Kind string `json:"kind"` // Secret or ConfigMap
	Name string `json:"name"`
	// Key is the key read, "" when the whole object is used (envFrom, a
	// volume without items).
	Key string `json:"key,omitempty"`
	// Via says where it is used: "env DB_PASSWORD", "envFrom", "volume creds",
	// "imagePullSecrets".
	Via       string `json:"via"`
	Container string `json:"container,omitempty"`
	Optional  bool   `json:"optional,omitempty"`
	// Status is RefFound, RefMissing, RefKeyMissing or RefUnknown.
	Status string `json:"status"`
}

// ConfigRef statuses.
const (
	RefFound      = "found"
	RefMissing    = "missing"
	RefKeyMissing = "key missing"
	RefUnknown    = "unknown" // the kind could not be listed
)

func (r ConfigRef) target() string {
	if r.Key != "" {
		return fmt.Sprintf("%s %q key %q", r.Kind, r.Name, r.Key)
	}
	return fmt.Sprintf("%s %q", r.Kind, r.Name)
}

func (r ConfigRef) where() string {
	if r.Container != "" {
		return r.Via + " of container " + r.Container
	}
	return r.Via
}

// broken reports whether the reference will stop the pod: it is not
// optional and its object or key is missing.
func (r ConfigRef) broken() bool {
	return !r.Optional && (r.Status == RefMissing || r.Status == RefKeyMissing)
}

// podSpecRefs lists every Secret and ConfigMap reference of a pod spec.
func podSpecRefs(spec *corev1.PodSpec) []ConfigRef {
	var out []ConfigRef
	containers := make([]corev1.Container, 0, len(spec.InitContainers)+len(spec.Containers))
	containers = append(append(containers, spec.InitContainers...), spec.Containers...)
	for _, c := range containers {
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if k := e.ValueFrom.SecretKeyRef; k != nil {
				out = append(out, ConfigRef{Kind: "Secret", Name: k.Name, Key: k.Key, Via: "env " + e.Name, Container: c.Name, Optional: optional(k.Optional)})
			}
			if k := e.ValueFrom.ConfigMapKeyRef; k != nil {
				out = append(out, ConfigRef{Kind: "ConfigMap", Name: k.Name, Key: k.Key, Via: "env " + e.Name, Container: c.Name, Optional: optional(k.Optional)})
			}
		}
		for _, ef := range c.EnvFrom {
			if r := ef.SecretRef; r != nil {
				out = append(out, ConfigRef{Kind: "Secret", Name: r.Name, Via: "envFrom", Container: c.Name, Optional: optional(r.Optional)})
			}
			if r := ef.ConfigMapRef; r != nil {
				out = append(out, ConfigRef{Kind: "ConfigMap", Name: r.Name, Via: "envFrom", Container: c.Name, Optional: optional(r.Optional)})
			}
		}
	}
	for _, v := range spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") {
			continue // the service account token volume the API server adds
		}
		via := "volume " + v.Name
		if sv := v.Secret; sv != nil {
			out = append(out, volumeRefs("Secret", sv.SecretName, via, sv.Items, optional(sv.Optional))...)
		}
		if cv := v.ConfigMap; cv != nil {
			out = append(out, volumeRefs("ConfigMap", cv.Name, via, cv.Items, optional(cv.Optional))...)
		}
		if pv := v.Projected; pv != nil {
			for _, src := range pv.Sources {
				if sp := src.Secret; sp != nil {
					out = append(out, volumeRefs("Secret", sp.Name, via, sp.Items, optional(sp.Optional))...)
				}
				if cp := src.ConfigMap; cp != nil {
					out = append(out, volumeRefs("ConfigMap", cp.Name, via, cp.Items, optional(cp.Optional))...)
				}
			}
		}
	}
	for _, ps := range spec.ImagePullSecrets {
		if ps.Name != "" {
			// The kubelet pulls without a missing pull secret (it only
			// warns), so this reference is reported but never fatal.
			out = append(out, ConfigRef{Kind: "Secret", Name: ps.Name, Via: "imagePullSecrets", Optional: true})
		}
	}
	return out
}

func volumeRefs(kind, name, via string, items []corev1.KeyToPath, opt bool) []ConfigRef {
	if len(items) == 0 {
		return []ConfigRef{{Kind: kind, Name: name, Via: via, Optional: opt}}
	}
	out := make([]ConfigRef, 0, len(items))
	for _, it := range items {
		out = append(out, ConfigRef{Kind: kind, Name: name, Key: it.Key, Via: via, Optional: opt})
	}
	return out
}

func optional(p *bool) bool { return p != nil && *p }

// checkRefs sets the Status of each reference from the snapshot.
func (s *Snapshot) checkRefs(ns string, refs []ConfigRef) []ConfigRef {
	for i := range refs {
		r := &refs[i]
		var keys map[string]bool
		var exists, known bool
		switch r.Kind {
		case "Secret":
			var info *secretInfo
			info, known = s.secret(ns, r.Name)
			if exists = info != nil; exists {
				keys = info.keys
			}
		case "ConfigMap":
			keys, exists, known = s.configMap(ns, r.Name)
		}
		switch {
		case !known:
			r.Status = RefUnknown
		case !exists:
			r.Status = RefMissing
		case r.Key != "" && !keys[r.Key]:
			r.Status = RefKeyMissing
		default:
			r.Status = RefFound
		}
	}
	return refs
}

// keysOf lists the key names of a Secret or ConfigMap (names only: never
// values), sorted.
func (s *Snapshot) keysOf(ns string, r ConfigRef) []string {
	var keys map[string]bool
	if r.Kind == "Secret" {
		if info, _ := s.secret(ns, r.Name); info != nil {
			keys = info.keys
		}
	} else {
		keys, _, _ = s.configMap(ns, r.Name)
	}
	return slices.Sorted(maps.Keys(keys))
}

// describeRef is a status line for a broken reference.
func (s *Snapshot) describeRef(ns string, r ConfigRef) string {
	line := fmt.Sprintf("%s → %s: ", r.where(), r.target())
	if r.Status == RefMissing {
		return line + fmt.Sprintf("%s %q does not exist in namespace %s", r.Kind, r.Name, ns)
	}
	keys := s.keysOf(ns, r)
	have := "no keys"
	if len(keys) > 0 {
		have = "keys " + strings.Join(keys, ", ")
	}
	return line + fmt.Sprintf("%s %q has no key %q (it has %s)", r.Kind, r.Name, r.Key, have)
}

// refFix is the command that creates what a broken reference points at.
func refFix(ns string, r ConfigRef) Fix {
	key := r.Key
	if key == "" {
		key = "KEY"
	}
	switch {
	case r.Kind == "Secret" && r.Status == RefMissing:
		return Fix{Description: fmt.Sprintf("Create Secret %q (or fix the name in the pod template)", r.Name),
			Command: shellf("kubectl create secret generic %s -n %s --from-literal=%s=<value>", r.Name, ns, key)}
	case r.Kind == "Secret":
		return Fix{Description: fmt.Sprintf("Add key %q to Secret %q (or fix the key name in the pod template)", r.Key, r.Name),
			Command: shellf("kubectl patch secret %s -n %s --type merge -p %s", r.Name, ns, jsonText(map[string]any{"stringData": map[string]string{r.Key: "<value>"}}))}
	case r.Status == RefMissing:
		return Fix{Description: fmt.Sprintf("Create ConfigMap %q (or fix the name in the pod template)", r.Name),
			Command: shellf("kubectl create configmap %s -n %s --from-literal=%s=<value>", r.Name, ns, key)}
	default:
		return Fix{Description: fmt.Sprintf("Add key %q to ConfigMap %q (or fix the key name in the pod template)", r.Key, r.Name),
			Command: shellf("kubectl patch configmap %s -n %s --type merge -p %s", r.Name, ns, jsonText(map[string]any{"data": map[string]string{r.Key: "<value>"}}))}
	}
}

// brokenRefs returns the broken references of a pod spec, deduplicated by
// target, in a stable order.
func (s *Snapshot) brokenRefs(ns string, spec *corev1.PodSpec) []ConfigRef {
	var out []ConfigRef
	seen := map[string]bool{}
	for _, r := range s.checkRefs(ns, podSpecRefs(spec)) {
		k := r.where() + "|" + r.target()
		if r.broken() && !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b ConfigRef) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Key, b.Key))
	})
	return out
}

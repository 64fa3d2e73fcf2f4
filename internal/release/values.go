package release

import (
	"fmt"
	"maps"
	"os"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// Values are the user's chart values, merged like helm's -f and --set:
// Files in order (a later file wins), then Overrides, then Set (wins over all).
type Values struct {
	// Files are YAML values files (helm -f/--values). Local paths only:
	// unlike helm, no URLs are fetched.
	Files []string `json:"files,omitempty"`
	// Overrides are values given programmatically, e.g. by the agent.
	Overrides map[string]any `json:"overrides,omitempty"`
	// Set are helm --set expressions: "a.b=1,c[0]=x". Values are typed the
	// way helm types them (numbers and booleans are parsed).
	Set []string `json:"set,omitempty"`
}

// IsZero reports whether no values were given at all. Helm reuses the last
// release's values on an upgrade given none.
func (v Values) IsZero() bool {
	return len(v.Files) == 0 && len(v.Overrides) == 0 && len(v.Set) == 0
}

// merge reads and merges the values into one map.
func (v Values) merge() (map[string]any, error) {
	out := map[string]any{}
	for _, f := range v.Files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read values file: %w", err)
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("parse values file %s: %w", f, err)
		}
		out = mergeMaps(out, m)
	}
	out = mergeMaps(out, v.Overrides)
	for _, s := range v.Set {
		if err := strvals.ParseInto(s, out); err != nil {
			return nil, fmt.Errorf("parse --set %q: %w", s, err)
		}
	}
	return out, nil
}

// mergeMaps deep-merges b into a copy of a: maps merge key by key, anything
// else in b replaces what a has. It is helm's rule for values files. Maps
// from b are copied, not shared, because --set parsing later writes into
// the result and must not touch the caller's Overrides.
func mergeMaps(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]any{}
	}
	for k, bv := range b {
		if bm, ok := bv.(map[string]any); ok {
			am, _ := out[k].(map[string]any)
			out[k] = mergeMaps(am, bm)
			continue
		}
		out[k] = bv
	}
	return out
}

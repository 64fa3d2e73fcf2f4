package release

import (
	"fmt"
	"maps"
	"os"
	"slices"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// Values are the user's chart values, merged like helm's -f and --set:
// Files in order (a later file wins), then Overrides, then Set (wins over all).
type Values struct {
	// Files are YAML values files (helm -f/--values). Local paths only:
	// unlike helm, no URLs are fetched.
	Files []string `json:"files,omitempty"`
	// Loaded are values files the caller has already read, merged in order
	// after Files. A caller that must deploy exactly the bytes it previewed
	// reads them once and passes them here.
	Loaded []ValuesFile `json:"loaded,omitempty"`
	// Overrides are values given programmatically, e.g. by the agent.
	Overrides map[string]any `json:"overrides,omitempty"`
	// Set are helm --set expressions: "a.b=1,c[0]=x". Values are typed the
	// way helm types them (numbers and booleans are parsed).
	Set []string `json:"set,omitempty"`
}

// IsZero reports whether no values were given at all. Helm reuses the last
// release's values on an upgrade given none.
func (v Values) IsZero() bool {
	return len(v.Files) == 0 && len(v.Loaded) == 0 && len(v.Overrides) == 0 && len(v.Set) == 0
}

// ValuesFile is a values file read into memory.
type ValuesFile struct {
	// Name is where it was read from, for messages.
	Name string `json:"name"`
	Data []byte `json:"-"`
}

// merge reads and merges the values into one map.
func (v Values) merge() (map[string]any, error) {
	out := map[string]any{}
	for _, f := range v.Files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read values file: %w", err)
		}
		if out, err = mergeValuesFile(out, f, data); err != nil {
			return nil, err
		}
	}
	for _, f := range v.Loaded {
		var err error
		if out, err = mergeValuesFile(out, f.Name, f.Data); err != nil {
			return nil, err
		}
	}
	out = mergeMaps(out, v.Overrides)
	for _, s := range v.Set {
		if err := strvals.ParseInto(s, out); err != nil {
			return nil, fmt.Errorf("parse --set %q: %w", s, err)
		}
	}
	return out, nil
}

// mergeValuesFile parses one values file and merges it over out.
func mergeValuesFile(out map[string]any, name string, data []byte) (map[string]any, error) {
	m := map[string]any{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse values file %s: %w", name, err)
	}
	return mergeMaps(out, m), nil
}

// droppedKeys lists, as dotted paths, the values set in old that are not
// set in new at all: neither the same key nor anything under it. Those are
// the values an upgrade resets to the chart's defaults. A changed value is
// not dropped, and a list counts as one value.
func droppedKeys(old, new map[string]any) []string {
	var out []string
	var walk func(prefix string, o, n map[string]any)
	walk = func(prefix string, o, n map[string]any) {
		for k, ov := range o {
			path := prefix + k
			nv, ok := n[k]
			if !ok {
				out = append(out, leafPaths(path, ov)...)
				continue
			}
			om, oIsMap := ov.(map[string]any)
			nm, nIsMap := nv.(map[string]any)
			if oIsMap && nIsMap {
				walk(path+".", om, nm)
			}
		}
	}
	walk("", old, new)
	slices.Sort(out)
	return out
}

// leafPaths lists the dotted paths of the values under path.
func leafPaths(path string, v any) []string {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return []string{path}
	}
	var out []string
	for k, sub := range m {
		out = append(out, leafPaths(path+"."+k, sub)...)
	}
	return out
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

package tools

import (
	"fmt"
	"slices"
	"strings"
)

// Registry is the set of tools every surface can reach. It is built once at
// start-up and read-only afterwards.
type Registry struct {
	byName map[string]Tool
}

// NewRegistry returns a registry holding tools. Duplicate names are a
// programming error and panic.
func NewRegistry(tools ...Tool) *Registry {
	r := &Registry{byName: make(map[string]Tool, len(tools))}
	for _, t := range tools {
		if _, dup := r.byName[t.Name()]; dup {
			panic(fmt.Sprintf("tool %q registered twice", t.Name()))
		}
		r.byName[t.Name()] = t
	}
	return r
}

// Lookup returns the tool called name, or an error wrapping ErrUnknownTool
// that lists the known names.
func (r *Registry) Lookup(name string) (Tool, error) {
	if t, ok := r.byName[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("%w %q (known tools: %s)", ErrUnknownTool, name, strings.Join(r.Names(), ", "))
}

// Names returns the tool names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Tools returns the tools sorted by name, so prompts and listings are stable.
func (r *Registry) Tools() []Tool {
	out := make([]Tool, 0, len(r.byName))
	for _, n := range r.Names() {
		out = append(out, r.byName[n])
	}
	return out
}

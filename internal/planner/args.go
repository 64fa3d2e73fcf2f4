package planner

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sashabaranov/go-openai/jsonschema"
)

// Argument types of the tools the planner calls. They mirror the tools'
// own argument structs; every call is checked against the registered
// schema, so a drift shows up as an error, never as a wrong call.

type listArgs struct {
	Kind          string `json:"kind"`
	Namespace     string `json:"namespace,omitempty"`
	AllNamespaces bool   `json:"all_namespaces,omitempty"`
	Selector      string `json:"selector,omitempty"`
	Limit         int    `json:"limit,omitempty"`
}

type getArgs struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type logsArgs struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Container string `json:"container,omitempty"`
	Tail      int    `json:"tail,omitempty"`
	Previous  bool   `json:"previous,omitempty"`
}

type eventsArgs struct {
	Namespace    string `json:"namespace,omitempty"`
	Kind         string `json:"kind,omitempty"`
	Name         string `json:"name,omitempty"`
	WarningsOnly bool   `json:"warnings_only,omitempty"`
}

type scaleArgs struct {
	Kind      string `json:"kind,omitempty"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Replicas  int    `json:"replicas"`
}

type scalePercentArgs struct {
	Kind          string `json:"kind,omitempty"`
	Name          string `json:"name"`
	Namespace     string `json:"namespace,omitempty"`
	ChangePercent int    `json:"change_percent"`
}

type setImageArgs struct {
	Kind      string `json:"kind,omitempty"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Container string `json:"container,omitempty"`
	Image     string `json:"image"`
}

type setResourcesArgs struct {
	Kind           string `json:"kind,omitempty"`
	Name           string `json:"name"`
	Namespace      string `json:"namespace,omitempty"`
	Container      string `json:"container,omitempty"`
	RequestsCPU    string `json:"requests_cpu,omitempty"`
	RequestsMemory string `json:"requests_memory,omitempty"`
	LimitsCPU      string `json:"limits_cpu,omitempty"`
	LimitsMemory   string `json:"limits_memory,omitempty"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type setEnvArgs struct {
	Kind      string   `json:"kind,omitempty"`
	Name      string   `json:"name"`
	Namespace string   `json:"namespace,omitempty"`
	Container string   `json:"container,omitempty"`
	Set       []envVar `json:"set"`
}

type exposeArgs struct {
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
	Port       int    `json:"port,omitempty"`
	TargetPort int    `json:"target_port,omitempty"`
	Type       string `json:"type,omitempty"`
}

type autoscaleArgs struct {
	Kind        string `json:"kind,omitempty"`
	Name        string `json:"name"`
	Namespace   string `json:"namespace,omitempty"`
	MinReplicas int    `json:"min_replicas"`
	MaxReplicas int    `json:"max_replicas"`
	CPUPercent  int    `json:"cpu_percent"`
}

type resizePVCArgs struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Size      string `json:"size"`
}

type nodeArgs struct {
	Name string `json:"name"`
}

type configMapEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type createConfigMapArgs struct {
	Name      string           `json:"name"`
	Namespace string           `json:"namespace,omitempty"`
	Data      []configMapEntry `json:"data"`
}

type workloadArgs struct {
	Kind      string `json:"kind,omitempty"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type rollbackArgs struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Revision  int    `json:"revision,omitempty"`
}

type podArgs struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// builder collects checked calls for one plan. The first error sticks.
type builder struct {
	p *Planner
	// readOnly refuses every tool whose Risk mutates: the plan answers a
	// question.
	readOnly bool
	calls    []Call
	err      error
}

// add checks args against the tool's schema and appends the call: every
// argument must be a property of the schema, every required property must
// be set, and enum values must match (a kind spelled differently is mapped
// onto the enum when it names the same kind).
func (b *builder) add(tool string, args any) {
	if b.err != nil {
		return
	}
	raw, err := json.Marshal(args)
	if err != nil {
		b.err = fmt.Errorf("encode %s arguments: %w", tool, err)
		return
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		b.err = fmt.Errorf("encode %s arguments: %w", tool, err)
		return
	}
	b.addFields(tool, fields, false)
}

// addLoose is add for tools whose arguments the planner does not know in
// advance (diagnose, explain, Helm): candidate arguments the schema does not
// have are dropped rather than refused.
func (b *builder) addLoose(tool string, candidates map[string]any) {
	if b.err != nil {
		return
	}
	fields := map[string]json.RawMessage{}
	for k, v := range candidates {
		raw, err := json.Marshal(v)
		if err != nil {
			b.err = fmt.Errorf("encode %s argument %s: %w", tool, k, err)
			return
		}
		fields[k] = raw
	}
	b.addFields(tool, fields, true)
}

func (b *builder) addFields(tool string, fields map[string]json.RawMessage, loose bool) {
	t, err := b.p.reg.Lookup(tool)
	if err != nil {
		b.err = fmt.Errorf("%s is not available in this build", tool)
		return
	}
	if b.readOnly && t.Risk().Mutates() {
		b.err = fmt.Errorf("the request asks rather than tells, so it is not planned as a change (%s would %s)", tool, t.Risk())
		return
	}
	schema := t.Schema()
	if schema == nil {
		schema = &jsonschema.Definition{}
	}
	for k, v := range fields {
		prop, ok := schema.Properties[k]
		if !ok {
			if loose {
				delete(fields, k)
				continue
			}
			b.err = fmt.Errorf("%s takes no %q argument", tool, k)
			return
		}
		if !typeMatches(prop.Type, v) {
			if loose {
				delete(fields, k)
				continue
			}
			b.err = fmt.Errorf("%s argument %q must be of type %s", tool, k, prop.Type)
			return
		}
		if len(prop.Enum) > 0 {
			fixed, err := matchEnum(k, v, prop.Enum)
			if err != nil {
				b.err = fmt.Errorf("%s: %w", tool, err)
				return
			}
			fields[k] = fixed
		}
	}
	var missing []string
	for _, req := range schema.Required {
		if _, ok := fields[req]; !ok {
			missing = append(missing, req)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		b.err = fmt.Errorf("%s needs %s, which the request does not give", tool, strings.Join(missing, ", "))
		return
	}
	raw, err := json.Marshal(fields) // map keys are sorted: stable output
	if err != nil {
		b.err = fmt.Errorf("encode %s arguments: %w", tool, err)
		return
	}
	b.calls = append(b.calls, Call{Tool: tool, Args: raw})
}

func typeMatches(t jsonschema.DataType, v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	switch t {
	case jsonschema.String:
		return strings.HasPrefix(s, `"`)
	case jsonschema.Integer, jsonschema.Number:
		return s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
	case jsonschema.Boolean:
		return s == "true" || s == "false"
	}
	return true
}

// matchEnum maps a string value onto one of enum, comparing
// case-insensitively and treating singular and plural as the same.
func matchEnum(name string, v json.RawMessage, enum []string) (json.RawMessage, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, errors.New("enum argument " + name + " must be a string")
	}
	norm := func(x string) string {
		x = strings.ToLower(x)
		if k, ok := kindWords()[x]; ok {
			return k.Name
		}
		return strings.TrimSuffix(x, "s")
	}
	for _, e := range enum {
		if norm(e) == norm(s) {
			return json.Marshal(e)
		}
	}
	return nil, fmt.Errorf("%s %q is not supported (supported: %s)", name, s, strings.Join(enum, ", "))
}

package configtools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// ConfigMapEntry is one key and value, as the model gives them.
type ConfigMapEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SourcedEntry is one key as the CLI gives it: a literal value, or a value
// read from a file (From) and handed to the tool by WithValues.
type SourcedEntry struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
	From  string `json:"from,omitempty" enum:"file,stdin"`
}

func (e ConfigMapEntry) entry() entrySpec { return entrySpec{key: e.Key, value: e.Value} }
func (e SourcedEntry) entry() entrySpec   { return entrySpec{key: e.Key, value: e.Value, from: e.From} }

type entrySpec struct{ key, value, from string }

// configMapEntry is what either kind of entry gives the tool.
type configMapEntry interface{ entry() entrySpec }

// configMapArgs are create_configmap's arguments, with the model's entries
// (CreateConfigMapArgs) or the CLI's (SourcedConfigMapArgs).
type configMapArgs[E configMapEntry] struct {
	Name      string `json:"name" description:"ConfigMap name"`
	Namespace string `json:"namespace,omitempty" description:"Namespace; defaults to the current namespace"`
	Data      []E    `json:"data" description:"Keys and values"`
}

// CreateConfigMapArgs are create_configmap's arguments as the model sends them.
type CreateConfigMapArgs = configMapArgs[ConfigMapEntry]

// SourcedConfigMapArgs are create_configmap's arguments from the CLI.
type SourcedConfigMapArgs = configMapArgs[SourcedEntry]

// Validate implements tools.Validator.
func (a configMapArgs[E]) Validate() error {
	keys := make([]string, len(a.Data))
	size := 0
	var errs []error
	for i, d := range a.Data {
		e := d.entry()
		keys[i] = e.key
		size += len(e.key) + len(e.value)
		if e.from != "" && e.value != "" {
			errs = append(errs, fmt.Errorf("key %q has both a value and from=%s; give one", e.key, e.from))
		}
	}
	if size > MaxDataBytes {
		errs = append(errs, fmt.Errorf("the data is %d bytes, more than the %d a ConfigMap can hold", size, MaxDataBytes))
	}
	return errors.Join(append([]error{checkObjectName(a.Name), kubetools.CheckNamespace(a.Namespace), checkKeys(keys)}, errs...)...)
}

// ConfigMapResult reports a created or updated ConfigMap.
type ConfigMapResult struct {
	ConfigMap string `json:"configMap"`
	Namespace string `json:"namespace"`
	// Action is "created" or "updated".
	Action  string   `json:"action"`
	Added   []string `json:"added,omitempty"`
	Changed []string `json:"changed,omitempty"`
	Kept    []string `json:"kept,omitempty"`
	Message string   `json:"message"`
}

// CreateConfigMap declares create_configmap. The CLI passes WithValues for
// values read from files; the model-facing tool takes literal values only.
func CreateConfigMap(c *kube.Clients, opts ...Option) tools.Tool {
	const desc = "Create a ConfigMap or set its keys."
	o := newOptions(opts)
	if o.values != nil {
		return tools.Define(NameCreateConfigMap, desc, tools.Write,
			func(ctx context.Context, a SourcedConfigMapArgs) (tools.Action, error) {
				return prepareConfigMap(ctx, c, o, a)
			})
	}
	return tools.Define(NameCreateConfigMap, desc, tools.Write,
		func(ctx context.Context, a CreateConfigMapArgs) (tools.Action, error) {
			return prepareConfigMap(ctx, c, o, a)
		})
}

func prepareConfigMap[E configMapEntry](ctx context.Context, c *kube.Clients, o options, a configMapArgs[E]) (tools.Action, error) {
	ns := kubetools.NamespaceFor(c, a.Namespace)
	r := ref("configmap", ns, a.Name)
	want := make(map[string]string, len(a.Data))
	keys := make([]string, 0, len(a.Data))
	for _, d := range a.Data {
		e := d.entry()
		if e.from != "" {
			v, err := o.sourced(e.key, e.from)
			if err != nil {
				return nil, err
			}
			e.value = string(v)
		}
		want[e.key], keys = e.value, append(keys, e.key)
	}
	slices.Sort(keys)
	target := []tools.Target{{Kind: "ConfigMap", Namespace: ns, Name: a.Name}}

	live, err := c.Typed.CoreV1().ConfigMaps(ns).Get(ctx, a.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		var diff strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&diff, "+ %s: %s\n", k, showValue(want[k]))
		}
		plan := tools.Preview{Summary: fmt.Sprintf("%s: create with %d key(s): %s", r, len(keys), keyList(keys)),
			Diff: strings.TrimSuffix(diff.String(), "\n"), Targets: target}
		apply := func(ctx context.Context) (any, error) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: a.Name, Namespace: ns}, Data: want}
			if _, err := c.Typed.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
				return nil, writeError(err, r)
			}
			return &ConfigMapResult{ConfigMap: a.Name, Namespace: ns, Action: "created", Added: keys,
				Message: fmt.Sprintf("%s created with %d key(s)", r, len(keys))}, nil
		}
		return tools.Mutation{Plan: plan, Apply: apply}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r, err)
	}

	res := &ConfigMapResult{ConfigMap: a.Name, Namespace: ns, Action: "updated"}
	var diff strings.Builder
	size := 0
	for _, k := range keys {
		old, had := live.Data[k]
		switch {
		case !had:
			res.Added = append(res.Added, k)
			fmt.Fprintf(&diff, "+ %s: %s\n", k, showValue(want[k]))
		case old != want[k]:
			res.Changed = append(res.Changed, k)
			fmt.Fprintf(&diff, "~ %s: %s → %s\n", k, showValue(old), showValue(want[k]))
		}
	}
	merged := make(map[string]string, len(live.Data)+len(want))
	for k, v := range live.Data {
		merged[k] = v
		if _, set := want[k]; !set {
			res.Kept = append(res.Kept, k)
		}
	}
	for k, v := range want {
		merged[k] = v
	}
	for k, v := range merged {
		size += len(k) + len(v)
	}
	for k, v := range live.BinaryData {
		size += len(k) + len(v)
	}
	if err := checkSize(r, size); err != nil {
		return nil, err
	}
	slices.Sort(res.Kept)
	if len(res.Kept) > 0 {
		fmt.Fprintf(&diff, "  kept: %s\n", keyList(res.Kept))
	}
	if len(res.Added)+len(res.Changed) == 0 {
		return tools.Mutation{
			Plan: tools.Preview{Summary: fmt.Sprintf("%s already has these values", r), NoChange: true, Targets: target},
			Apply: func(context.Context) (any, error) {
				return map[string]any{"changed": false, "message": r + " already has these values"}, nil
			},
		}, nil
	}
	var parts []string
	if len(res.Changed) > 0 {
		parts = append(parts, "change "+keyList(res.Changed))
	}
	if len(res.Added) > 0 {
		parts = append(parts, "add "+keyList(res.Added))
	}
	plan := tools.Preview{Summary: r + ": " + strings.Join(parts, "; "), Diff: strings.TrimSuffix(diff.String(), "\n"), Targets: target}
	apply := func(ctx context.Context) (any, error) {
		// live carries the previewed resourceVersion: a ConfigMap changed
		// since is not overwritten.
		cm := live.DeepCopy()
		cm.Data = merged
		if _, err := c.Typed.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return nil, writeError(err, r)
		}
		res.Message = fmt.Sprintf("%s updated: %s", r, strings.Join(parts, "; "))
		return res, nil
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// maxShownValue bounds a value shown in a preview; the rest is counted.
const maxShownValue = 80

// showValue quotes a ConfigMap value for a preview, shortening long ones.
func showValue(v string) string {
	if len(v) <= maxShownValue {
		return strconv.Quote(v)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(v[:maxShownValue]), len(v))
}

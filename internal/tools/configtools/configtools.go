// Package configtools holds the tools that create configuration objects:
// ConfigMaps and Secrets.
//
// A Secret's values never travel through tool arguments, previews, results
// or the audit log. The model can only ask for generated values; the CLI
// reads values from files or stdin and hands them to the tool directly
// (WithValues), so its arguments only name the keys.
package configtools

import (
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// Tool names, part of the contract with the planner and the model.
const (
	NameCreateConfigMap = "create_configmap"
	NameCreateSecret    = "create_secret"
)

// MaxDataBytes bounds a ConfigMap's or Secret's data, keys included: the
// API server refuses larger objects.
const MaxDataBytes = 1 << 20

// Where a value comes from, as arguments name it ("from") and previews show it.
const (
	FromFile  = "file"
	FromStdin = "stdin"
)

// New returns the model-facing tools. They have no values source: a Secret's
// values can only be generated, and "from" is not an argument they know.
func New(c *kube.Clients) []tools.Tool {
	return []tools.Tool{CreateConfigMap(c), CreateSecret(c)}
}

// Option configures a tool built for one CLI command.
type Option func(*options)

type options struct {
	values map[string][]byte
}

// WithValues gives the tool the values the CLI read from files or stdin, by
// key. The tool then accepts keys whose argument says "from" instead of
// carrying a value, so the value stays out of the arguments.
func WithValues(values map[string][]byte) Option {
	return func(o *options) { o.values = values }
}

func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// sourced returns the value the CLI gave for key, which an argument named
// with "from".
func (o options) sourced(key, from string) ([]byte, error) {
	v, ok := o.values[key]
	if !ok {
		return nil, fmt.Errorf("%w: key %q says from=%s but no value was read for it", tools.ErrInvalidArgs, key, from)
	}
	return v, nil
}

// checkObjectName rejects what the API would refuse as the name of a new object.
func checkObjectName(name string) error {
	if name == "" {
		return fmt.Errorf("name is required")
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("name %q is not a valid name: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// checkKeys validates data keys as kubectl does (letters, digits, '-', '_',
// '.'; at most 253 characters) and rejects duplicates.
func checkKeys(keys []string) error {
	if len(keys) == 0 {
		return fmt.Errorf("at least one key is required")
	}
	for i, k := range keys {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			return fmt.Errorf("key %q is not valid: %s", k, strings.Join(errs, "; "))
		}
		if slices.Contains(keys[:i], k) {
			return fmt.Errorf("key %q is given twice", k)
		}
	}
	return nil
}

// checkSize rejects data larger than the API accepts.
func checkSize(what string, size int) error {
	if size > MaxDataBytes {
		return fmt.Errorf("%w: %s would hold %d bytes, more than the %d a ConfigMap or Secret can", tools.ErrInvalidArgs, what, size, MaxDataBytes)
	}
	return nil
}

// writeError turns a failed create or update into what the caller must do:
// the object moved since the preview (re-run), or the write failed.
func writeError(err error, ref string) error {
	switch {
	case apierrors.IsAlreadyExists(err):
		return fmt.Errorf("%w: %s was created by someone else since the preview; re-run to see it", tools.ErrConflict, ref)
	case apierrors.IsConflict(err):
		return fmt.Errorf("%w: %s changed since you approved; re-run to see the new state", tools.ErrConflict, ref)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: %s was deleted since the preview; re-run to create it", tools.ErrConflict, ref)
	}
	return fmt.Errorf("write %s: %w", ref, err)
}

// keyList joins keys for a summary line.
func keyList(keys []string) string { return strings.Join(keys, ", ") }

// ref is how previews and messages name an object.
func ref(kind, ns, name string) string { return fmt.Sprintf("%s/%s in %s", kind, name, ns) }

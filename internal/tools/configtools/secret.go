package configtools

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// Generated values: random URL-safe characters.
const (
	minGenerateLength     = 16
	maxGenerateLength     = 256
	defaultGenerateLength = 32
)

// secretTypes are the types create_secret makes. A service-account-token
// Secret mints a token, so it is left to apply_objects and its privilege rule.
var secretTypes = []string{
	string(corev1.SecretTypeOpaque), string(corev1.SecretTypeBasicAuth), string(corev1.SecretTypeSSHAuth),
	string(corev1.SecretTypeTLS), string(corev1.SecretTypeDockerConfigJson),
}

// SecretKey is one key as the model asks for it: its value is generated.
type SecretKey struct {
	Key            string `json:"key"`
	GenerateLength int    `json:"generate_length,omitempty" description:"Length 16-256, default 32"`
}

// SourcedSecretKey is one key as the CLI gives it: generated, or read from a
// file or stdin (From) and handed to the tool by WithValues.
type SourcedSecretKey struct {
	Key            string `json:"key"`
	GenerateLength int    `json:"generate_length,omitempty"`
	From           string `json:"from,omitempty" enum:"file,stdin"`
}

func (k SecretKey) secretKey() keySpec { return keySpec{key: k.Key, length: k.GenerateLength} }
func (k SourcedSecretKey) secretKey() keySpec {
	return keySpec{key: k.Key, length: k.GenerateLength, from: k.From}
}

type keySpec struct {
	key, from string
	length    int
}

// secretKeyArg is what either kind of key gives the tool.
type secretKeyArg interface{ secretKey() keySpec }

// secretArgs are create_secret's arguments, with the model's keys
// (CreateSecretArgs) or the CLI's (SourcedSecretArgs).
type secretArgs[K secretKeyArg] struct {
	Name      string `json:"name" description:"Secret name"`
	Namespace string `json:"namespace,omitempty" description:"Namespace; defaults to the current namespace"`
	Type      string `json:"type,omitempty" description:"Default Opaque"`
	Keys      []K    `json:"keys" description:"Keys to generate values for"`
}

// CreateSecretArgs are create_secret's arguments as the model sends them.
type CreateSecretArgs = secretArgs[SecretKey]

// SourcedSecretArgs are create_secret's arguments from the CLI.
type SourcedSecretArgs = secretArgs[SourcedSecretKey]

// Validate implements tools.Validator.
func (a secretArgs[K]) Validate() error {
	errs := []error{checkObjectName(a.Name), kubetools.CheckNamespace(a.Namespace)}
	if a.Type != "" && !slices.Contains(secretTypes, a.Type) {
		errs = append(errs, fmt.Errorf("type %q is not one of %s", a.Type, strings.Join(secretTypes, ", ")))
	}
	keys := make([]string, len(a.Keys))
	for i, k := range a.Keys {
		s := k.secretKey()
		keys[i] = s.key
		if s.from != "" && s.length != 0 {
			errs = append(errs, fmt.Errorf("key %q has both from=%s and generate_length; give one", s.key, s.from))
		} else if s.from == "" && s.length != 0 {
			errs = append(errs, kubetools.CheckRange("generate_length of key "+s.key, s.length, minGenerateLength, maxGenerateLength))
		}
	}
	return errors.Join(append(errs, checkKeys(keys))...)
}

// SecretKeyResult describes one key of a Secret without its value.
type SecretKeyResult struct {
	Key string `json:"key"`
	// Source is "generated", "from file" or "from stdin"; empty for a kept key.
	Source string `json:"source,omitempty"`
	Bytes  int    `json:"bytes"`
	// Change is "added", "replaced", "unchanged" or "kept".
	Change string `json:"change"`
}

func (k SecretKeyResult) String() string {
	switch k.Change {
	case "kept":
		return fmt.Sprintf("%s (kept, %d bytes)", k.Key, k.Bytes)
	case "unchanged":
		return fmt.Sprintf("%s (unchanged, %s, %d bytes)", k.Key, k.Source, k.Bytes)
	}
	return fmt.Sprintf("%s (%s, %s, %d bytes)", k.Key, k.Change, k.Source, k.Bytes)
}

// SecretResult reports a created or updated Secret. It never holds a value.
type SecretResult struct {
	Secret    string `json:"secret"`
	Namespace string `json:"namespace"`
	Type      string `json:"type"`
	// Action is "created" or "updated".
	Action  string            `json:"action"`
	Keys    []SecretKeyResult `json:"keys"`
	Message string            `json:"message"`
}

// CreateSecret declares create_secret. Without options the tool only
// generates values; the CLI passes WithValues for values read from files or
// stdin, which arguments then name with "from".
func CreateSecret(c *kube.Clients, opts ...Option) tools.Tool {
	const desc = "Create a Secret or set keys, with generated values."
	o := newOptions(opts)
	if o.values != nil {
		return tools.Define(NameCreateSecret, desc, tools.Write,
			func(ctx context.Context, a SourcedSecretArgs) (tools.Action, error) {
				return prepareSecret(ctx, c, o, a)
			})
	}
	return tools.Define(NameCreateSecret, desc, tools.Write,
		func(ctx context.Context, a CreateSecretArgs) (tools.Action, error) {
			return prepareSecret(ctx, c, o, a)
		})
}

// plannedKey is one requested key: a value from the CLI, or a length to
// generate when the change runs.
type plannedKey struct {
	SecretKeyResult
	value    []byte
	generate int
}

func prepareSecret[K secretKeyArg](ctx context.Context, c *kube.Clients, o options, a secretArgs[K]) (tools.Action, error) {
	ns := kubetools.NamespaceFor(c, a.Namespace)
	r := ref("secret", ns, a.Name)
	planned := make([]plannedKey, 0, len(a.Keys))
	for _, k := range a.Keys {
		s := k.secretKey()
		p := plannedKey{SecretKeyResult: SecretKeyResult{Key: s.key}}
		if s.from != "" {
			v, err := o.sourced(s.key, s.from)
			if err != nil {
				return nil, err
			}
			p.value, p.Source, p.Bytes = v, "from "+s.from, len(v)
		} else {
			p.generate = s.length
			if p.generate == 0 {
				p.generate = defaultGenerateLength
			}
			p.Source, p.Bytes = "generated", p.generate
		}
		planned = append(planned, p)
	}
	slices.SortFunc(planned, func(x, y plannedKey) int { return strings.Compare(x.Key, y.Key) })
	target := []tools.Target{{Kind: "Secret", Namespace: ns, Name: a.Name}}

	live, err := c.Typed.CoreV1().Secrets(ns).Get(ctx, a.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		typ := corev1.SecretType(a.Type)
		if typ == "" {
			typ = corev1.SecretTypeOpaque
		}
		keys := make([]SecretKeyResult, len(planned))
		size := 0
		for i := range planned {
			planned[i].Change = "added"
			keys[i] = planned[i].SecretKeyResult
			size += len(keys[i].Key) + keys[i].Bytes
		}
		if err := checkSize(r, size); err != nil {
			return nil, err
		}
		plan := tools.Preview{Summary: fmt.Sprintf("%s (%s): create with keys %s", r, typ, describeKeys(keys, "")), Targets: target}
		apply := func(ctx context.Context) (any, error) {
			data, err := secretData(nil, planned)
			if err != nil {
				return nil, err
			}
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: a.Name, Namespace: ns}, Type: typ, Data: data}
			if _, err := c.Typed.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
				return nil, writeError(err, r)
			}
			return &SecretResult{Secret: a.Name, Namespace: ns, Type: string(typ), Action: "created", Keys: keys,
				Message: fmt.Sprintf("%s created with keys %s", r, describeKeys(keys, ""))}, nil
		}
		return tools.Mutation{Plan: plan, Apply: apply}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r, err)
	}
	if a.Type != "" && corev1.SecretType(a.Type) != live.Type {
		return nil, fmt.Errorf("%w: %s has type %s and a Secret's type cannot change; leave type out, or delete the Secret first", tools.ErrInvalidArgs, r, live.Type)
	}
	return planSecretUpdate(c, r, live, planned, target)
}

// planSecretUpdate plans setting keys of an existing Secret. Replacing a
// value loses the old one for good, so such an update is destructive and
// its preview names the keys it replaces.
func planSecretUpdate(c *kube.Clients, r string, live *corev1.Secret, planned []plannedKey, target []tools.Target) (tools.Action, error) {
	var keys []SecretKeyResult
	var replaced, added []string
	size := 0
	for i := range planned {
		p := &planned[i]
		old, had := live.Data[p.Key]
		switch {
		case !had:
			p.Change, added = "added", append(added, p.Key)
		case p.generate == 0 && string(old) == string(p.value):
			p.Change = "unchanged"
		default:
			p.Change, replaced = "replaced", append(replaced, p.Key)
		}
		keys = append(keys, p.SecretKeyResult)
		size += len(p.Key) + p.Bytes
	}
	for k, v := range live.Data {
		if !slices.ContainsFunc(planned, func(p plannedKey) bool { return p.Key == k }) {
			keys = append(keys, SecretKeyResult{Key: k, Bytes: len(v), Change: "kept"})
			size += len(k) + len(v)
		}
	}
	slices.SortFunc(keys, func(x, y SecretKeyResult) int { return strings.Compare(x.Key, y.Key) })
	if err := checkSize(r, size); err != nil {
		return nil, err
	}
	if len(replaced)+len(added) == 0 {
		msg := r + " already holds these values"
		return tools.Mutation{
			Plan:  tools.Preview{Summary: msg, NoChange: true, Targets: target},
			Apply: func(context.Context) (any, error) { return map[string]any{"changed": false, "message": msg}, nil },
		}, nil
	}
	var parts []string
	plan := tools.Preview{Targets: target}
	if len(replaced) > 0 {
		// The old values cannot be recovered: ask as for a deletion.
		parts = append(parts, "replaces keys "+keyList(replaced)+" (their current values are lost)")
		plan.Risk = tools.Destructive
	}
	if len(added) > 0 {
		parts = append(parts, "adds keys "+keyList(added))
	}
	plan.Summary = fmt.Sprintf("%s: update: %s", r, strings.Join(parts, "; "))
	plan.Diff = "keys: " + describeKeys(keys, "\n      ")
	apply := func(ctx context.Context) (any, error) {
		data, err := secretData(live.Data, planned)
		if err != nil {
			return nil, err
		}
		// live carries the previewed resourceVersion: a Secret changed
		// since is not overwritten.
		s := live.DeepCopy()
		s.Data = data
		if _, err := c.Typed.CoreV1().Secrets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			return nil, writeError(err, r)
		}
		return &SecretResult{Secret: s.Name, Namespace: s.Namespace, Type: string(s.Type), Action: "updated", Keys: keys,
			Message: fmt.Sprintf("%s updated: %s", r, strings.Join(parts, "; "))}, nil
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// secretData returns base with the planned keys set, generating values now
// so that a preview or a dry run never produces one.
func secretData(base map[string][]byte, planned []plannedKey) (map[string][]byte, error) {
	data := make(map[string][]byte, len(base)+len(planned))
	for k, v := range base {
		data[k] = v
	}
	for _, p := range planned {
		v := p.value
		if p.generate > 0 {
			var err error
			if v, err = randomValue(p.generate); err != nil {
				return nil, err
			}
		}
		data[p.Key] = v
	}
	return data, nil
}

// randomValue returns n random characters of the URL-safe base64 alphabet.
func randomValue(n int) ([]byte, error) {
	raw := make([]byte, base64.RawURLEncoding.DecodedLen(n)+1)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate a random value: %w", err)
	}
	return []byte(base64.RawURLEncoding.EncodeToString(raw)[:n]), nil
}

func describeKeys(keys []SecretKeyResult, sep string) string {
	if sep == "" {
		sep = ", "
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, sep)
}

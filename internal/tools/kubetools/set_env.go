package kubetools

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/tools"
)

// SetEnvArgs are set_env's arguments.
type SetEnvArgs struct {
	Kind           string      `json:"kind,omitempty" enum:"deployment,statefulset,daemonset" description:"Optional"`
	Name           string      `json:"name" description:"Workload name"`
	Namespace      string      `json:"namespace,omitempty" description:"Default: current namespace"`
	Container      string      `json:"container,omitempty" description:"Required if the pod has several"`
	Set            []EnvVarArg `json:"set,omitempty" description:"Vars to set"`
	Unset          []string    `json:"unset,omitempty" description:"Names to remove"`
	Wait           *bool       `json:"wait,omitempty" description:"Default true"`
	TimeoutSeconds int         `json:"timeout_seconds,omitempty" description:"Default 120"`
}

// EnvVarArg is one variable to set, from exactly one source. Secrets are
// referenced by name and key: their values never pass through arguments.
type EnvVarArg struct {
	Name            string  `json:"name"`
	Value           *string `json:"value,omitempty"`
	SecretKeyRef    *KeyRef `json:"secret_key_ref,omitempty"`
	ConfigMapKeyRef *KeyRef `json:"config_map_key_ref,omitempty"`
}

// KeyRef names a key of a Secret or ConfigMap in the workload's namespace.
type KeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// maxEnvChanges bounds one call's variables.
const maxEnvChanges = 50

// envNamePattern is what kubectl set env accepts as a variable name;
// compiled on first use, not at every command's start.
var envNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`) })

// Validate implements tools.Validator.
func (a SetEnvArgs) Validate() error {
	if err := checkWorkloadArgs(a.Kind, a.Name, a.Namespace, a.TimeoutSeconds, rolloutKinds); err != nil {
		return err
	}
	switch n := len(a.Set) + len(a.Unset); {
	case n == 0:
		return fmt.Errorf("give variables to set or unset")
	case n > maxEnvChanges:
		return fmt.Errorf("%d variables in one call; at most %d", n, maxEnvChanges)
	}
	seen := map[string]string{}
	note := func(name, where string) error {
		if !envNamePattern().MatchString(name) {
			return fmt.Errorf("%s: %q is not a valid variable name (letters, digits, '_', '-', '.'; not starting with a digit)", where, name)
		}
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("variable %s appears twice (in %s and %s)", name, prev, where)
		}
		seen[name] = where
		return nil
	}
	for i, e := range a.Set {
		where := fmt.Sprintf("set[%d]", i)
		if err := note(e.Name, where); err != nil {
			return err
		}
		if err := e.check(where); err != nil {
			return err
		}
	}
	for i, name := range a.Unset {
		if err := note(name, fmt.Sprintf("unset[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

func (e EnvVarArg) check(where string) error {
	sources := 0
	for _, given := range []bool{e.Value != nil, e.SecretKeyRef != nil, e.ConfigMapKeyRef != nil} {
		if given {
			sources++
		}
	}
	if sources != 1 {
		return fmt.Errorf("%s (%s): give exactly one of value, secret_key_ref, config_map_key_ref, not %d", where, e.Name, sources)
	}
	for _, ref := range []*KeyRef{e.SecretKeyRef, e.ConfigMapKeyRef} {
		if ref == nil {
			continue
		}
		if errs := validation.IsDNS1123Subdomain(ref.Name); len(errs) > 0 {
			return fmt.Errorf("%s (%s): %q is not a valid object name: %s", where, e.Name, ref.Name, strings.Join(errs, "; "))
		}
		if errs := validation.IsConfigMapKey(ref.Key); len(errs) > 0 {
			return fmt.Errorf("%s (%s): %q is not a valid key: %s", where, e.Name, ref.Key, strings.Join(errs, "; "))
		}
	}
	return nil
}

// envVar is the variable as the pod spec holds it.
func (e EnvVarArg) envVar() corev1.EnvVar {
	switch {
	case e.SecretKeyRef != nil:
		return corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: e.SecretKeyRef.Name}, Key: e.SecretKeyRef.Key}}}
	case e.ConfigMapKeyRef != nil:
		return corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: e.ConfigMapKeyRef.Name}, Key: e.ConfigMapKeyRef.Key}}}
	}
	return corev1.EnvVar{Name: e.Name, Value: *e.Value}
}

// SetEnv declares set_env.
func SetEnv(c *kube.Clients) tools.Tool {
	return tools.Define(NameSetEnv,
		"Set or unset env vars.",
		tools.Write,
		func(ctx context.Context, a SetEnvArgs) (tools.Action, error) {
			req := containerRequest{Kind: a.Kind, Name: a.Name, Namespace: a.Namespace, Container: a.Container, Wait: a.Wait, TimeoutSeconds: a.TimeoutSeconds}
			return prepareContainerEdit(ctx, c, req, setEnv(c, a.Set, a.Unset))
		})
}

func setEnv(c *kube.Clients, set []EnvVarArg, unset []string) containerEdit {
	return func(ctx context.Context, ref workloadRef, _ *corev1.PodSpec, ctr *corev1.Container) (containerChange, error) {
		for _, e := range set {
			if err := checkKeyRef(ctx, c, ref.Namespace, e); err != nil {
				return containerChange{}, err
			}
		}
		var changed, same []string
		for _, e := range set {
			v := e.envVar()
			i := slices.IndexFunc(ctr.Env, func(x corev1.EnvVar) bool { return x.Name == e.Name })
			switch {
			case i < 0:
				ctr.Env = append(ctr.Env, v)
				changed = append(changed, "+ "+envString(v))
			case apiequality.Semantic.DeepEqual(ctr.Env[i], v):
				same = append(same, envString(v))
			default:
				changed = append(changed, fmt.Sprintf("~ %s → %s", envString(ctr.Env[i]), envString(v)))
				ctr.Env[i] = v
			}
		}
		for _, name := range unset {
			n := len(ctr.Env)
			ctr.Env = slices.DeleteFunc(ctr.Env, func(x corev1.EnvVar) bool { return x.Name == name })
			if len(ctr.Env) < n {
				changed = append(changed, "- "+name)
			} else {
				same = append(same, "no "+name)
			}
		}
		if len(changed) == 0 {
			return containerChange{Unchanged: "already has env " + strings.Join(same, ", ")}, nil
		}
		return containerChange{Summary: "env: " + strings.Join(changed, "; "), Diff: strings.Join(changed, "\n")}, nil
	}
}

// checkKeyRef makes sure a referenced key exists, so the pods do not fail
// with CreateContainerConfigError after the rollout starts. A Secret's
// values are read by the API call (there is no way to list only its keys)
// but never kept, shown or returned: only the key names are used.
func checkKeyRef(ctx context.Context, c *kube.Clients, ns string, e EnvVarArg) error {
	var (
		kind string
		ref  *KeyRef
		keys []string
		err  error
	)
	switch {
	case e.SecretKeyRef != nil:
		kind, ref = "secret", e.SecretKeyRef
		var s *corev1.Secret
		if s, err = c.Typed.CoreV1().Secrets(ns).Get(ctx, ref.Name, metav1.GetOptions{}); err == nil {
			keys = slices.Sorted(maps.Keys(s.Data))
		}
	case e.ConfigMapKeyRef != nil:
		kind, ref = "configmap", e.ConfigMapKeyRef
		var cm *corev1.ConfigMap
		if cm, err = c.Typed.CoreV1().ConfigMaps(ns).Get(ctx, ref.Name, metav1.GetOptions{}); err == nil {
			keys = slices.Sorted(maps.Keys(cm.Data))
			keys = append(keys, slices.Sorted(maps.Keys(cm.BinaryData))...)
		}
	default:
		return nil
	}
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: %s: %s %s does not exist in namespace %s; create it first, then set the variable; nothing was changed",
			tools.ErrNotFound, e.Name, kind, ref.Name, ns)
	case err != nil:
		return fmt.Errorf("%s: check %s %s in %s: %w", e.Name, kind, ref.Name, ns, err)
	case !slices.Contains(keys, ref.Key):
		return fmt.Errorf("%w: %s: %s %s in %s has no key %q (its keys: %s); nothing was changed",
			tools.ErrNotFound, e.Name, kind, ref.Name, ns, ref.Key, cmpOrNone(keys))
	}
	return nil
}

// envString renders one variable for a preview, masking plain values whose
// name looks like a credential (redact.SecretKey: DB_PASSWORD, API_KEY).
func envString(e corev1.EnvVar) string {
	if e.ValueFrom == nil && redact.SecretKey(e.Name) {
		return e.Name + "=" + redact.Redacted
	}
	return envStrings([]corev1.EnvVar{e})[0]
}

package objecttools

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// Patch types patch_object accepts.
const (
	patchStrategic = "strategic"
	patchMerge     = "merge"
)

// PatchObjectArgs are patch_object's arguments.
type PatchObjectArgs struct {
	Kind      string `json:"kind" description:"e.g. deployment, service"`
	Name      string `json:"name" description:"Object name"`
	Namespace string `json:"namespace,omitempty" description:"Defaults to the current namespace"`
	Patch     string `json:"patch" description:"JSON, e.g. {\"spec\":{\"replicas\":2}}"`
	PatchType string `json:"patch_type,omitempty" enum:"strategic,merge" description:"Default strategic; merge for custom resources"`
}

// Validate implements tools.Validator.
func (a PatchObjectArgs) Validate() error {
	if err := kubetools.CheckName("kind", a.Kind); err != nil {
		return err
	}
	if err := kubetools.CheckName("name", a.Name); err != nil {
		return err
	}
	if err := kubetools.CheckNamespace(a.Namespace); err != nil {
		return err
	}
	switch a.PatchType {
	case "", patchStrategic, patchMerge:
	default:
		return fmt.Errorf("patch_type %q is not supported; use %q or %q", a.PatchType, patchStrategic, patchMerge)
	}
	_, err := parsePatch(a.Patch)
	return err
}

// parsePatch reads a patch: a non-empty JSON object whose metadata, if
// given, is an object too.
func parsePatch(s string) (map[string]any, error) {
	var p map[string]any
	if err := json.Unmarshal([]byte(s), &p); err != nil || p == nil {
		return nil, fmt.Errorf(`patch must be a JSON object such as {"spec":{"replicas":2}}: %v`, err)
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("patch is empty: it would change nothing")
	}
	if m, ok := p["metadata"]; ok {
		if _, isObj := m.(map[string]any); !isObj {
			return nil, fmt.Errorf("patch: metadata must be an object")
		}
	}
	return p, nil
}

// PatchResult reports a patch.
type PatchResult struct {
	Object  ObjectOutcome `json:"object"`
	Message string        `json:"message"`
}

// PatchObject declares patch_object.
func PatchObject(c *kube.Clients) tools.Tool {
	return tools.Define(NamePatchObject,
		"Patch one object (strategic or merge).",
		tools.Write,
		func(ctx context.Context, a PatchObjectArgs) (tools.Action, error) { return preparePatch(ctx, c, a) })
}

func preparePatch(ctx context.Context, c *kube.Clients, a PatchObjectArgs) (tools.Action, error) {
	k, err := kubetools.ResolveKind(c.Mapper, a.Kind)
	if err != nil {
		return nil, err
	}
	pt, typeName := types.StrategicMergePatchType, "strategic merge patch"
	if a.PatchType == patchMerge {
		pt, typeName = types.MergePatchType, "JSON merge patch"
	} else if !scheme.Scheme.Recognizes(k.GVK) {
		return nil, fmt.Errorf(`%w: %s is served by a CustomResourceDefinition (or an aggregated API), which does not accept strategic merge patches; use patch_type "merge"; nothing was changed`,
			tools.ErrInvalidArgs, k.GVK.GroupKind())
	}
	live, err := kubetools.ResolveObject(ctx, c, k, kubetools.NamespaceFor(c, a.Namespace), a.Name)
	if err != nil {
		return nil, err
	}
	ref := refFor(k, live.GetNamespace(), live.GetName())
	patch, _ := parsePatch(a.Patch) // checked by Validate
	liveBody, err := bodyOf(live)
	if err != nil {
		return nil, err
	}
	uid := string(live.GetUID())
	data, err := boundPatch(patch, live.GetResourceVersion())
	if err != nil {
		return nil, err
	}
	ri := ref.client(c)
	after, err := ri.Patch(ctx, ref.Name, pt, data, metav1.PatchOptions{FieldManager: FieldManager, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		if apierrors.IsUnsupportedMediaType(err) {
			return nil, fmt.Errorf(`%w: %s does not accept a %s; use patch_type "merge"; nothing was changed`, tools.ErrInvalidArgs, ref, typeName)
		}
		return nil, writeError(ref, "dry-run patch", err)
	}
	diff, changed, err := objectDiff(ref, live, after)
	if err != nil {
		return nil, err
	}
	if !changed {
		summary := ref.String() + " already matches the patch; nothing to change"
		return tools.Mutation{
			Plan:  tools.Preview{Summary: summary, NoChange: true, Targets: []tools.Target{ref.target()}},
			Apply: func(context.Context) (any, error) { return &PatchResult{Message: summary}, nil },
		}, nil
	}
	plan := tools.Preview{
		Summary:    fmt.Sprintf("patch %s (%s)", ref, typeName),
		Diff:       capDiff(diff),
		Targets:    []tools.Target{ref.target()},
		Privileged: privileges(after),
	}
	if scaledToZero(live, after) {
		plan.Risk = tools.Destructive
		plan.Summary += ": scales it to 0 replicas, every pod stops"
	}
	apply := func(ctx context.Context) (any, error) {
		body := data
		for attempt := 0; ; attempt++ {
			obj, err := ri.Patch(ctx, ref.Name, pt, body, metav1.PatchOptions{FieldManager: FieldManager})
			if err == nil {
				return &PatchResult{
					Object:  ObjectOutcome{Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name, Operation: OpUpdate, ResourceVersion: obj.GetResourceVersion()},
					Message: fmt.Sprintf("patched %s", ref),
				}, nil
			}
			if !apierrors.IsConflict(err) || attempt > 0 {
				return nil, runError(ref, "patch", err)
			}
			rv, err := stillAsPreviewed(ctx, c, ref, uid, liveBody)
			if err != nil {
				return nil, err
			}
			if body, err = boundPatch(patch, rv); err != nil {
				return nil, err
			}
		}
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// boundPatch adds metadata.resourceVersion to the patch: the API then
// refuses it with a Conflict if the object moved past the previewed version.
func boundPatch(patch map[string]any, resourceVersion string) ([]byte, error) {
	p := make(map[string]any, len(patch)+1)
	for k, v := range patch {
		p[k] = v
	}
	md := map[string]any{}
	if m, ok := patch["metadata"].(map[string]any); ok {
		for k, v := range m {
			md[k] = v
		}
	}
	md["resourceVersion"] = resourceVersion
	p["metadata"] = md
	data, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode patch: %w", err)
	}
	return data, nil
}

package objecttools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// ApplyObjectsArgs are apply_objects' arguments.
type ApplyObjectsArgs struct {
	Manifests string `json:"manifests" description:"YAML or JSON documents, separated by ---"`
	Namespace string `json:"namespace,omitempty" description:"Namespace for objects that name none"`
}

// Validate implements tools.Validator.
func (a ApplyObjectsArgs) Validate() error {
	if strings.TrimSpace(a.Manifests) == "" {
		return fmt.Errorf("manifests is required: one or more YAML or JSON documents")
	}
	if len(a.Manifests) > maxManifestBytes {
		return fmt.Errorf("manifests are %d bytes, more than the %d allowed; apply them in parts", len(a.Manifests), maxManifestBytes)
	}
	return kubetools.CheckNamespace(a.Namespace)
}

// Operation is what applying did, or would do, to one object.
type Operation string

// The operations of one object.
const (
	OpCreate    Operation = "create"
	OpUpdate    Operation = "update"
	OpUnchanged Operation = "unchanged"
	OpDelete    Operation = "delete"
)

// ObjectOutcome is one object a tool wrote (or found already as asked).
type ObjectOutcome struct {
	Kind            string    `json:"kind"`
	Namespace       string    `json:"namespace,omitempty"`
	Name            string    `json:"name"`
	Operation       Operation `json:"operation"`
	ResourceVersion string    `json:"resourceVersion,omitempty"`
}

// ApplyResult reports an apply.
type ApplyResult struct {
	Objects []ObjectOutcome `json:"objects"`
	Message string          `json:"message"`
}

// ApplyObjects declares apply_objects.
func ApplyObjects(c *kube.Clients) tools.Tool {
	return tools.Define(NameApplyObjects,
		"Server-side apply of YAML/JSON manifests.",
		tools.Write,
		func(ctx context.Context, a ApplyObjectsArgs) (tools.Action, error) { return prepareApply(ctx, c, a) })
}

// applyItem is one object of an apply, planned against the live state.
type applyItem struct {
	ref  objectRef
	body *unstructured.Unstructured // what Run sends; carries the previewed resourceVersion on updates
	op   Operation
	// liveUID and liveBody are the previewed live object's identity and
	// content without server-set fields, to tell a real change from a
	// status update when the resourceVersion moved.
	liveUID  string
	liveBody string
}

func prepareApply(ctx context.Context, c *kube.Clients, a ApplyObjectsArgs) (tools.Action, error) {
	objs, err := parseManifests(a.Manifests)
	if err != nil {
		return nil, fmt.Errorf("%w: %v; nothing was changed", tools.ErrInvalidArgs, err)
	}
	defaultNS := kubetools.NamespaceFor(c, a.Namespace)
	items := make([]*applyItem, 0, len(objs))
	seen := map[string]bool{}
	for _, obj := range objs {
		it, err := placeObject(c, obj, defaultNS)
		if err != nil {
			return nil, err
		}
		key := it.ref.GVR.GroupResource().String() + "/" + it.ref.Namespace + "/" + it.ref.Name
		if seen[key] {
			return nil, fmt.Errorf("%w: %s appears twice in the manifests; give each object once; nothing was changed", tools.ErrInvalidArgs, it.ref)
		}
		seen[key] = true
		items = append(items, it)
	}

	var (
		plan      = tools.Preview{}
		lines     []string
		diffs     strings.Builder
		conflicts FieldConflicts
	)
	for _, it := range items {
		after, live, err := dryRunApply(ctx, c, it)
		var fc *FieldConflictError
		if errors.As(err, &fc) {
			conflicts = append(conflicts, fc.Conflicts...)
			continue
		}
		if err != nil {
			return nil, err
		}
		diff, changed, err := objectDiff(it.ref, live, after)
		if err != nil {
			return nil, err
		}
		plan.Targets = append(plan.Targets, it.ref.target())
		switch {
		case live == nil:
			it.op = OpCreate
			lines = append(lines, "create "+it.ref.String())
		case !changed:
			it.op = OpUnchanged
			lines = append(lines, it.ref.String()+": unchanged")
			continue
		default:
			it.op = OpUpdate
			line := "update " + it.ref.String()
			if scaledToZero(live, after) {
				plan.Risk = tools.Destructive
				line += " (scales it to 0 replicas: every pod stops)"
			}
			lines = append(lines, line)
		}
		diffs.WriteString(diff)
		plan.Privileged = append(plan.Privileged, privileges(after)...)
	}
	if len(conflicts) > 0 {
		return nil, &FieldConflictError{Conflicts: conflicts}
	}
	plan.Summary = strings.Join(lines, "\n")
	plan.Diff = capDiff(diffs.String())
	if !slices.ContainsFunc(items, func(it *applyItem) bool { return it.op != OpUnchanged }) {
		plan.NoChange = true
		plan.Summary = fmt.Sprintf("all %d object(s) already match the manifests:\n%s", len(items), plan.Summary)
	}
	return tools.Mutation{Plan: plan, Apply: func(ctx context.Context) (any, error) { return runApply(ctx, c, items) }}, nil
}

// placeObject maps obj to the resource the cluster serves and decides its
// namespace: namespaced objects without one go to defaultNS; an object that
// names its namespace keeps it (the gate's scope check judges it).
func placeObject(c *kube.Clients, obj *unstructured.Unstructured, defaultNS string) (*applyItem, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, fmt.Errorf("%w: kind %s (apiVersion %s) of %q is not served by this cluster; check the spelling and apiVersion (common kinds: %s); nothing was changed",
				tools.ErrInvalidArgs, gvk.Kind, obj.GetAPIVersion(), obj.GetName(), kubetools.CommonKinds)
		}
		return nil, fmt.Errorf("look up kind %s (apiVersion %s): %w", gvk.Kind, obj.GetAPIVersion(), err)
	}
	body := obj.DeepCopy()
	ns := ""
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns = obj.GetNamespace()
		if ns == "" {
			ns = defaultNS
		}
		if err := kubetools.CheckNamespace(ns); err != nil {
			return nil, fmt.Errorf("%w: %s %q: %v; nothing was changed", tools.ErrInvalidArgs, gvk.Kind, obj.GetName(), err)
		}
	}
	body.SetNamespace(ns)
	// Whatever the manifest says, the preview decides the precondition.
	body.SetResourceVersion("")
	body.SetUID("")
	body.SetManagedFields(nil)
	return &applyItem{
		ref:  objectRef{GVR: mapping.Resource, Kind: gvk.Kind, Namespace: ns, Name: obj.GetName()},
		body: body,
	}, nil
}

// dryRunApply reads the live object and applies it.body with DryRun All,
// bound to the live resourceVersion. On return it.body carries that
// resourceVersion (for updates) and it.liveUID/liveBody are set.
func dryRunApply(ctx context.Context, c *kube.Clients, it *applyItem) (after, live *unstructured.Unstructured, err error) {
	ri := it.ref.client(c)
	live, err = ri.Get(ctx, it.ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		return nil, nil, fmt.Errorf("read %s: %w", it.ref, err)
	default:
		it.body.SetResourceVersion(live.GetResourceVersion())
		it.liveUID = string(live.GetUID())
		if it.liveBody, err = bodyOf(live); err != nil {
			return nil, nil, err
		}
	}
	after, err = ri.Apply(ctx, it.ref.Name, it.body, metav1.ApplyOptions{
		FieldManager: FieldManager, DryRun: []string{metav1.DryRunAll}, Force: false,
	})
	if err != nil {
		return nil, nil, writeError(it.ref, verbDryRunApply, err)
	}
	return after, live, nil
}

// runApply applies exactly the previewed objects, in manifest order.
func runApply(ctx context.Context, c *kube.Clients, items []*applyItem) (any, error) {
	res := &ApplyResult{}
	var done []string
	for _, it := range items {
		out := ObjectOutcome{Kind: it.ref.Kind, Namespace: it.ref.Namespace, Name: it.ref.Name, Operation: it.op}
		if it.op != OpUnchanged {
			obj, err := applyOne(ctx, c, it)
			if err != nil {
				if len(done) == 0 {
					return nil, err
				}
				res.Message = fmt.Sprintf("stopped at %s; applied before it: %s", it.ref, strings.Join(done, ", "))
				return res, fmt.Errorf("%w (%s)", err, res.Message)
			}
			out.ResourceVersion = obj.GetResourceVersion()
			done = append(done, string(it.op)+"d "+it.ref.short())
		}
		res.Objects = append(res.Objects, out)
	}
	res.Message = fmt.Sprintf("applied %d object(s): %s", len(done), strings.Join(done, ", "))
	if len(done) == 0 {
		res.Message = "nothing to apply: every object already matches"
	}
	return res, nil
}

// applyOne writes one previewed object. A create fails if the object has
// appeared meanwhile; an update carries the previewed resourceVersion, and
// is retried once with the new one only when what moved it changed nothing
// the preview showed (a controller's status update).
func applyOne(ctx context.Context, c *kube.Clients, it *applyItem) (*unstructured.Unstructured, error) {
	ri := it.ref.client(c)
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: false}
	if it.op == OpCreate {
		_, err := ri.Get(ctx, it.ref.Name, metav1.GetOptions{})
		switch {
		case err == nil:
			return nil, conflictError(it.ref, "was created by someone else")
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("read %s: %w", it.ref, err)
		}
		obj, err := ri.Apply(ctx, it.ref.Name, it.body, opts)
		if err != nil {
			return nil, runError(it.ref, "apply", err)
		}
		return obj, nil
	}
	body := it.body
	for attempt := 0; ; attempt++ {
		obj, err := ri.Apply(ctx, it.ref.Name, body, opts)
		if err == nil {
			return obj, nil
		}
		if !apierrors.IsConflict(err) || isFieldConflict(err) || attempt > 0 {
			return nil, runError(it.ref, "apply", err)
		}
		rv, err := stillAsPreviewed(ctx, c, it.ref, it.liveUID, it.liveBody)
		if err != nil {
			return nil, err
		}
		body = body.DeepCopy()
		body.SetResourceVersion(rv)
	}
}

// stillAsPreviewed re-reads an object whose resourceVersion moved since the
// preview and returns its new resourceVersion if it is the same object (same
// UID) with the same content apart from status and server-set fields.
// Otherwise it returns ErrConflict.
func stillAsPreviewed(ctx context.Context, c *kube.Clients, r objectRef, uid, previewed string) (string, error) {
	now, err := r.client(c).Get(ctx, r.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "", conflictError(r, "was deleted")
	case err != nil:
		return "", fmt.Errorf("read %s: %w", r, err)
	case string(now.GetUID()) != uid:
		return "", conflictError(r, "was deleted and created again")
	}
	body, err := bodyOf(now)
	if err != nil {
		return "", err
	}
	if body != previewed {
		return "", conflictError(r, "was changed by someone else")
	}
	return now.GetResourceVersion(), nil
}

// runError turns a failed write in Run into the error the gate acts on: a
// moved resourceVersion, a field another manager took meanwhile, or a
// deleted object is ErrConflict (re-plan and ask again).
func runError(r objectRef, verb string, err error) error {
	switch {
	case isFieldConflict(err):
		return conflictError(r, "has fields another field manager took ("+conflictsOf(r, err).String()+")")
	case apierrors.IsConflict(err):
		return conflictError(r, "was changed by someone else")
	case apierrors.IsNotFound(err):
		return conflictError(r, "was deleted (or its namespace was)")
	}
	return writeError(r, verb, err)
}

// verbDryRunApply names apply_objects' dry run in errors.
const verbDryRunApply = "dry-run apply"

// writeError explains a refused write or dry run: an invalid object is the
// caller's to fix (ErrInvalidArgs), a field-manager conflict is reported
// field by field, a missing namespace is named.
func writeError(r objectRef, verb string, err error) error {
	switch {
	case isFieldConflict(err):
		return &FieldConflictError{Conflicts: conflictsOf(r, err)}
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		return fmt.Errorf("%w: the API server rejects %s: %v; fix the manifest; nothing was changed", tools.ErrInvalidArgs, r, apiMessage(err))
	case apierrors.IsNotFound(err) && verb == verbDryRunApply && r.Namespace != "":
		// Apply creates what is missing, so only the namespace can be.
		return fmt.Errorf("%w: %s: namespace %s does not exist (%v); create the namespace first; nothing was changed", tools.ErrNotFound, r, r.Namespace, apiMessage(err))
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: %s no longer exists (%v); nothing was changed", tools.ErrNotFound, r, apiMessage(err))
	case apierrors.IsConflict(err):
		return fmt.Errorf("%w: %s changed while it was being previewed; re-run", tools.ErrConflict, r)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s %s: forbidden by the cluster's RBAC: %v", verb, r, apiMessage(err))
	}
	return fmt.Errorf("%s %s: %w", verb, r, err)
}

func apiMessage(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) && st.Status().Message != "" {
		return st.Status().Message
	}
	return err.Error()
}

package objecttools

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// DeleteObjectArgs are delete_object's arguments.
type DeleteObjectArgs struct {
	Kind      string `json:"kind" description:"e.g. deployment, pvc, namespace"`
	Name      string `json:"name" description:"Object name"`
	Namespace string `json:"namespace,omitempty" description:"Defaults to the current namespace"`
}

// Validate implements tools.Validator.
func (a DeleteObjectArgs) Validate() error {
	if err := kubetools.CheckName("kind", a.Kind); err != nil {
		return err
	}
	if err := kubetools.CheckName("name", a.Name); err != nil {
		return err
	}
	return kubetools.CheckNamespace(a.Namespace)
}

// DeleteResult reports a deletion.
type DeleteResult struct {
	Object  ObjectOutcome `json:"object"`
	Message string        `json:"message"`
}

// DeleteObject declares delete_object.
func DeleteObject(c *kube.Clients) tools.Tool {
	return tools.Define(NameDeleteObject,
		"Delete one object.",
		tools.Destructive,
		func(ctx context.Context, a DeleteObjectArgs) (tools.Action, error) { return prepareDelete(ctx, c, a) })
}

func prepareDelete(ctx context.Context, c *kube.Clients, a DeleteObjectArgs) (tools.Action, error) {
	k, err := kubetools.ResolveKind(c.Mapper, a.Kind)
	if err != nil {
		return nil, err
	}
	live, err := kubetools.ResolveObject(ctx, c, k, kubetools.NamespaceFor(c, a.Namespace), a.Name)
	if err != nil {
		return nil, err
	}
	ref := refFor(k, live.GetNamespace(), live.GetName())
	liveBody, err := bodyOf(live)
	if err != nil {
		return nil, err
	}
	consequences := deleteConsequences(ctx, c, ref, live)
	plan := tools.Preview{
		Summary:    "delete " + ref.String(),
		Diff:       strings.Join(consequences, "\n"),
		Risk:       tools.Destructive,
		Targets:    []tools.Target{ref.target()},
		Privileged: privileges(live),
	}
	if live.GetDeletionTimestamp() != nil {
		plan.Summary += " (already being deleted: waiting on finalizers " + strings.Join(live.GetFinalizers(), ", ") + ")"
	}
	uid := live.GetUID()
	rv := live.GetResourceVersion()
	apply := func(ctx context.Context) (any, error) {
		ri := ref.client(c)
		for attempt := 0; ; attempt++ {
			bg := metav1.DeletePropagationBackground
			err := ri.Delete(ctx, ref.Name, metav1.DeleteOptions{
				Preconditions:     &metav1.Preconditions{UID: &uid, ResourceVersion: &rv},
				PropagationPolicy: &bg,
			})
			if err == nil {
				return &DeleteResult{
					Object:  ObjectOutcome{Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name, Operation: OpDelete},
					Message: "deleted " + ref.String() + "; its dependents are removed in the background",
				}, nil
			}
			switch {
			case apierrors.IsNotFound(err):
				return nil, conflictError(ref, "no longer exists")
			case !apierrors.IsConflict(err) || attempt > 0:
				return nil, runError(ref, "delete", err)
			}
			// Only a change the preview did not show (a status update)
			// lets the delete go ahead with the new resourceVersion.
			if rv, err = stillAsPreviewed(ctx, c, ref, string(uid), liveBody); err != nil {
				return nil, err
			}
		}
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// deleteConsequences says what goes with the object and what stays, one
// line each. A lookup that fails is named rather than failing the preview.
func deleteConsequences(ctx context.Context, c *kube.Clients, ref objectRef, live *unstructured.Unstructured) []string {
	switch {
	case ref.Kind == "Namespace" && ref.GVR.Group == "":
		return namespaceContents(ctx, c, ref.Name)
	case ref.Namespace == "":
		return nil
	}
	idx := newOwnerIndex(ctx, c, ref.Namespace)
	goes := idx.dependents(live.GetUID())
	var out []string
	if len(goes) > 0 {
		out = append(out, "goes with it (owned, deleted by the garbage collector): "+describeGroups(goes))
	}
	switch {
	case ref.Kind == "StatefulSet" && ref.GVR.Group == "apps":
		if stays := statefulSetClaims(idx, live, goes); len(stays) > 0 {
			out = append(out, fmt.Sprintf("stays: %s (a StatefulSet's volume claims outlive it; delete them yourself to free the storage)", describeGroups(stays)))
		}
	case ref.Kind == "PersistentVolumeClaim" && ref.GVR.Group == "":
		out = append(out, claimConsequences(ctx, c, idx, live)...)
	}
	out = append(out, idx.problems...)
	return out
}

// statefulSetClaims are the claims made from the StatefulSet's volume claim
// templates ("<template>-<set>-<ordinal>") that it does not own: they stay.
func statefulSetClaims(idx *ownerIndex, sts *unstructured.Unstructured, goes []object) []object {
	templates, _, _ := unstructured.NestedSlice(sts.Object, "spec", "volumeClaimTemplates")
	owned := map[types.UID]bool{}
	for _, o := range goes {
		owned[o.uid] = true
	}
	var stays []object
	for _, t := range templates {
		name, _, _ := unstructured.NestedString(t.(map[string]any), "metadata", "name")
		prefix := name + "-" + sts.GetName() + "-"
		for _, pvc := range idx.claims {
			if ordinal, ok := strings.CutPrefix(pvc.GetName(), prefix); ok && isDigits(ordinal) && !owned[pvc.GetUID()] {
				stays = append(stays, object{kind: "PersistentVolumeClaim", name: pvc.GetName(), uid: pvc.GetUID()})
			}
		}
	}
	return stays
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// claimConsequences says whether pods still use the claim (the API keeps a
// claim in use until its pods are gone) and what happens to its volume.
func claimConsequences(ctx context.Context, c *kube.Clients, idx *ownerIndex, pvc *unstructured.Unstructured) []string {
	var users []object
	for _, p := range idx.pods {
		vols, _, _ := unstructured.NestedSlice(p.Object, "spec", "volumes")
		for _, v := range vols {
			if claim, _, _ := unstructured.NestedString(v.(map[string]any), "persistentVolumeClaim", "claimName"); claim == pvc.GetName() {
				users = append(users, object{kind: "Pod", name: p.GetName(), uid: p.GetUID()})
				break
			}
		}
	}
	var out []string
	if len(users) > 0 {
		out = append(out, fmt.Sprintf("still in use by %s: the claim stays Terminating until they are gone", describeGroups(users)))
	} else {
		out = append(out, "no pod uses it")
	}
	pv, _, _ := unstructured.NestedString(pvc.Object, "spec", "volumeName")
	if pv == "" {
		return out
	}
	vol, err := c.Dynamic.Resource(gvrPersistentVolumes).Get(ctx, pv, metav1.GetOptions{})
	if err != nil {
		return append(out, fmt.Sprintf("its volume persistentvolume/%s could not be read: %v", pv, err))
	}
	policy, _, _ := unstructured.NestedString(vol.Object, "spec", "persistentVolumeReclaimPolicy")
	switch policy {
	case "Delete":
		out = append(out, fmt.Sprintf("its volume persistentvolume/%s has reclaim policy Delete: the volume and its data are deleted too", pv))
	default:
		out = append(out, fmt.Sprintf("its volume persistentvolume/%s has reclaim policy %s: the volume and its data stay (Released)", pv, policy))
	}
	return out
}

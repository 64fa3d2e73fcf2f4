package kubetools

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// ResizePVCArgs are resize_pvc's arguments.
type ResizePVCArgs struct {
	Name      string `json:"name" description:"PVC name"`
	Namespace string `json:"namespace,omitempty" description:"Default: current namespace"`
	Size      string `json:"size" description:"e.g. 5Gi; only growth"`
}

// maxVolumeSize bounds a resize: beyond it the request is a typo. Messages
// print the text: Quantity.String caches its result in the value, a write
// that races when two calls share this variable.
const maxVolumeSizeText = "64Ti"

var maxVolumeSize = resource.MustParse(maxVolumeSizeText)

// Validate implements tools.Validator.
func (a ResizePVCArgs) Validate() error {
	if err := CheckName("name", a.Name); err != nil {
		return err
	}
	if err := CheckNamespace(a.Namespace); err != nil {
		return err
	}
	_, err := parseVolumeSize(a.Size)
	return err
}

func parseVolumeSize(s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(s)
	switch {
	case err != nil:
		return q, fmt.Errorf("size %q is not a quantity (%v); write e.g. 5Gi", s, err)
	case q.Sign() <= 0:
		return q, fmt.Errorf("size %s must be positive", s)
	case q.Cmp(maxVolumeSize) > 0:
		return q, fmt.Errorf("size %s is more than %s; that is not a volume size", s, maxVolumeSizeText)
	}
	return q, nil
}

// ResizePVCResult reports a volume resize request.
type ResizePVCResult struct {
	Claim     string `json:"claim"`
	Namespace string `json:"namespace"`
	Before    string `json:"before"`
	After     string `json:"after"`
	// Capacity is what the volume offers now; it grows when the storage
	// driver has expanded it.
	Capacity string `json:"capacity,omitempty"`
	Message  string `json:"message"`
}

// ResizePVC declares resize_pvc.
func ResizePVC(c *kube.Clients) tools.Tool {
	return tools.Define(NameResizePVC,
		"Grow a PersistentVolumeClaim.",
		tools.Write,
		func(ctx context.Context, a ResizePVCArgs) (tools.Action, error) { return prepareResizePVC(ctx, c, a) })
}

func prepareResizePVC(ctx context.Context, c *kube.Clients, a ResizePVCArgs) (tools.Action, error) {
	want, _ := parseVolumeSize(a.Size) // checked by Validate
	ns := NamespaceFor(c, a.Namespace)
	pvc, err := resolveClaim(ctx, c, ns, a.Name)
	if err != nil {
		return nil, err
	}
	desc := fmt.Sprintf("pvc/%s in %s", pvc.Name, ns)
	targets := []tools.Target{{Kind: "PersistentVolumeClaim", Namespace: ns, Name: pvc.Name}}
	have := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	switch have.Cmp(want) {
	case 0:
		return noChange(fmt.Sprintf("%s already requests %s", desc, have.String()), targets...), nil
	case 1:
		return nil, fmt.Errorf("%w: %s requests %s; Kubernetes cannot shrink a volume to %s. To get a smaller one, create a new claim and copy the data; nothing was changed",
			tools.ErrInvalidArgs, desc, have.String(), want.String())
	}
	if pvc.Status.Phase != corev1.ClaimBound {
		return nil, fmt.Errorf("%s is %s, not Bound; only a bound claim can be resized (describe it with get_resource to see why it is not bound)", desc, pvc.Status.Phase)
	}
	if err := checkExpandable(ctx, c, desc, pvc); err != nil {
		return nil, err
	}
	plan := tools.Preview{Summary: fmt.Sprintf("%s: %s → %s", desc, have.String(), want.String()), Targets: targets}
	// While a claim binds or resizes its status moves; what the resize
	// depends on is its requested size (the rest of a bound claim's spec is
	// fixed, and claims have no generation).
	claims := c.Typed.CoreV1().PersistentVolumeClaims(ns)
	previewed := tools.PreviewedAPIObject(pvc, desc, claims, func(p *corev1.PersistentVolumeClaim) any {
		return p.Spec.Resources.Requests[corev1.ResourceStorage]
	})
	apply := func(ctx context.Context) (any, error) {
		var got *corev1.PersistentVolumeClaim
		what := fmt.Sprintf("resize %s to %s", desc, want.String())
		err := tools.WriteAsPreviewed(ctx, previewed, what, func(ctx context.Context, p *corev1.PersistentVolumeClaim) error {
			p.Spec.Resources.Requests[corev1.ResourceStorage] = want
			var err error
			got, err = claims.Update(ctx, p, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return nil, err
		}
		res := &ResizePVCResult{Claim: got.Name, Namespace: ns, Before: have.String(), After: want.String()}
		if capacity, ok := got.Status.Capacity[corev1.ResourceStorage]; ok {
			res.Capacity = capacity.String()
		}
		res.Message = fmt.Sprintf("%s now requests %s; the storage driver expands the volume (status.capacity shows the size available; some drivers finish the file system resize only when a pod next mounts it)",
			desc, want.String())
		return res, nil
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// resolveClaim finds the claim name refers to, through the resolver every
// other object goes through.
func resolveClaim(ctx context.Context, c *kube.Clients, ns, name string) (*corev1.PersistentVolumeClaim, error) {
	k, err := ResolveKind(c.Mapper, "persistentvolumeclaims")
	if err != nil {
		return nil, err
	}
	u, err := ResolveObject(ctx, c, k, ns, name)
	if err != nil {
		return nil, err
	}
	var pvc corev1.PersistentVolumeClaim
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &pvc); err != nil {
		return nil, fmt.Errorf("read pvc %s in %s: %w", u.GetName(), ns, err)
	}
	return &pvc, nil
}

// checkExpandable refuses a resize the API would refuse: the claim's
// StorageClass must set allowVolumeExpansion.
func checkExpandable(ctx context.Context, c *kube.Clients, desc string, pvc *corev1.PersistentVolumeClaim) error {
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	if class == "" {
		return fmt.Errorf("%s has no StorageClass (a statically provisioned volume), so Kubernetes cannot expand it; create a larger claim and copy the data; nothing was changed", desc)
	}
	sc, err := c.Typed.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w: %s uses StorageClass %s, which no longer exists, so expansion cannot be checked or done; nothing was changed", tools.ErrNotFound, desc, class)
	}
	if err != nil {
		return fmt.Errorf("get storageclass %s of %s: %w", class, desc, err)
	}
	if sc.AllowVolumeExpansion == nil || !*sc.AllowVolumeExpansion {
		return fmt.Errorf("%s cannot grow: its StorageClass %s does not allow volume expansion (allowVolumeExpansion is not true). A cluster admin can enable it if the driver (%s) supports resizing: kubectl patch storageclass %s -p '{\"allowVolumeExpansion\":true}'; otherwise create a larger claim and copy the data; nothing was changed",
			desc, class, sc.Provisioner, class)
	}
	return nil
}

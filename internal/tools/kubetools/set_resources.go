package kubetools

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// SetResourcesArgs are set_resources' arguments.
type SetResourcesArgs struct {
	Kind           string `json:"kind,omitempty" enum:"deployment,statefulset,daemonset" description:"Optional"`
	Name           string `json:"name" description:"Workload name"`
	Namespace      string `json:"namespace,omitempty" description:"Default: current namespace"`
	Container      string `json:"container,omitempty" description:"Required if the pod has several"`
	RequestsCPU    string `json:"requests_cpu,omitempty" description:"e.g. 250m"`
	RequestsMemory string `json:"requests_memory,omitempty" description:"e.g. 256Mi"`
	LimitsCPU      string `json:"limits_cpu,omitempty" description:"e.g. 1"`
	LimitsMemory   string `json:"limits_memory,omitempty" description:"e.g. 512Mi"`
	Wait           *bool  `json:"wait,omitempty" description:"Default true"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" description:"Default 120"`
}

// Bounds on quantities: anything above is a typo (or a model) rather than a
// real container's need, and anything below 1Mi of memory is a unit mistake
// ("512m" is half a byte, not 512 megabytes). Messages print the texts:
// Quantity.String caches its result in the value, a write that races when
// concurrent calls share these variables.
const (
	maxCPUText    = "1024"
	maxMemoryText = "4Ti"
	minMemoryText = "1Mi"
)

var (
	maxCPU    = resource.MustParse(maxCPUText)
	maxMemory = resource.MustParse(maxMemoryText)
	minMemory = resource.MustParse(minMemoryText)
)

// resourceField is one of the four quantities set_resources sets.
type resourceField struct {
	Arg      string // argument name: "limits_memory"
	Limit    bool
	Resource corev1.ResourceName
	Value    string
}

// label is the field as the pod spec names it: "limits.memory".
func (f resourceField) label() string {
	if f.Limit {
		return "limits." + string(f.Resource)
	}
	return "requests." + string(f.Resource)
}

// given returns the fields the call sets, in a fixed order.
func (a SetResourcesArgs) given() []resourceField {
	all := []resourceField{
		{"requests_cpu", false, corev1.ResourceCPU, a.RequestsCPU},
		{"requests_memory", false, corev1.ResourceMemory, a.RequestsMemory},
		{"limits_cpu", true, corev1.ResourceCPU, a.LimitsCPU},
		{"limits_memory", true, corev1.ResourceMemory, a.LimitsMemory},
	}
	var out []resourceField
	for _, f := range all {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

// Validate implements tools.Validator.
func (a SetResourcesArgs) Validate() error {
	if err := checkWorkloadArgs(a.Kind, a.Name, a.Namespace, a.TimeoutSeconds, rolloutKinds); err != nil {
		return err
	}
	fields := a.given()
	if len(fields) == 0 {
		return fmt.Errorf("give at least one of requests_cpu, requests_memory, limits_cpu, limits_memory")
	}
	for _, f := range fields {
		if _, err := parseResourceQuantity(f); err != nil {
			return err
		}
	}
	return nil
}

// parseResourceQuantity parses and bounds one quantity.
func parseResourceQuantity(f resourceField) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(f.Value)
	if err != nil {
		return q, fmt.Errorf("%s %q is not a quantity (%v); write e.g. 250m or 1 for CPU, 256Mi or 1Gi for memory", f.Arg, f.Value, err)
	}
	switch {
	case q.Sign() < 0:
		return q, fmt.Errorf("%s %s is negative", f.Arg, f.Value)
	case f.Limit && q.IsZero():
		return q, fmt.Errorf("%s 0 is not a usable limit; give a positive value", f.Arg)
	case f.Resource == corev1.ResourceCPU && q.Cmp(maxCPU) > 0:
		return q, fmt.Errorf("%s %s is more than %s cores; that is not a container's size (CPU is in cores or millicores: 500m is half a core)", f.Arg, f.Value, maxCPUText)
	case f.Resource == corev1.ResourceMemory && q.Cmp(maxMemory) > 0:
		return q, fmt.Errorf("%s %s is more than %s; that is not a container's size", f.Arg, f.Value, maxMemoryText)
	case f.Resource == corev1.ResourceMemory && !q.IsZero() && q.Cmp(minMemory) < 0:
		return q, fmt.Errorf("%s %s is less than 1Mi (m means milli, not mega); did you mean %sMi?", f.Arg, f.Value, strings.TrimSuffix(f.Value, "m"))
	}
	return q, nil
}

// SetResources declares set_resources.
func SetResources(c *kube.Clients) tools.Tool {
	return tools.Define(NameSetResources,
		"Set CPU/memory requests or limits.",
		tools.Write,
		func(ctx context.Context, a SetResourcesArgs) (tools.Action, error) {
			req := containerRequest{Kind: a.Kind, Name: a.Name, Namespace: a.Namespace, Container: a.Container, Wait: a.Wait, TimeoutSeconds: a.TimeoutSeconds}
			return prepareContainerEdit(ctx, c, req, setResources(a.given()))
		})
}

func setResources(fields []resourceField) containerEdit {
	return func(_ context.Context, _ workloadRef, _ *corev1.PodSpec, ctr *corev1.Container) (containerChange, error) {
		r := &ctr.Resources
		var changed, same []string
		for _, f := range fields {
			q, err := parseResourceQuantity(f) // checked by Validate
			if err != nil {
				return containerChange{}, fmt.Errorf("%w: %v", tools.ErrInvalidArgs, err)
			}
			list := &r.Requests
			if f.Limit {
				list = &r.Limits
			}
			old, had := (*list)[f.Resource]
			if had && old.Cmp(q) == 0 {
				same = append(same, f.label()+" "+old.String())
				continue
			}
			was := "none"
			if had {
				was = old.String()
			}
			changed = append(changed, fmt.Sprintf("%s %s → %s", f.label(), was, q.String()))
			if *list == nil {
				*list = corev1.ResourceList{}
			}
			(*list)[f.Resource] = q
		}
		if err := checkRequestsWithinLimits(r); err != nil {
			return containerChange{}, err
		}
		if len(changed) == 0 {
			return containerChange{Unchanged: "already has " + strings.Join(same, ", ")}, nil
		}
		return containerChange{Summary: "resources: " + strings.Join(changed, ", "), Diff: strings.Join(changed, "\n")}, nil
	}
}

// checkRequestsWithinLimits refuses requests above limits, which the API
// would reject with a less helpful message.
func checkRequestsWithinLimits(r *corev1.ResourceRequirements) error {
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := r.Requests[name]
		lim, hasLim := r.Limits[name]
		if hasReq && hasLim && req.Cmp(lim) > 0 {
			return fmt.Errorf("%w: after this change requests.%s (%s) would be above limits.%s (%s), which Kubernetes refuses; set limits_%s to at least %s too, or lower the request; nothing was changed",
				tools.ErrInvalidArgs, name, req.String(), name, lim.String(), name, req.String())
		}
	}
	return nil
}

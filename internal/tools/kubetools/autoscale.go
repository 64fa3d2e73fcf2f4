package kubetools

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// AutoscaleArgs are autoscale's arguments.
type AutoscaleArgs struct {
	Kind        string `json:"kind,omitempty" enum:"deployment,statefulset" description:"Optional"`
	Name        string `json:"name" description:"Workload name"`
	Namespace   string `json:"namespace,omitempty" description:"Default: current namespace"`
	MinReplicas int    `json:"min_replicas" description:"1-1000"`
	MaxReplicas int    `json:"max_replicas" description:"Up to 1000"`
	CPUPercent  int    `json:"cpu_percent" description:"Target CPU %, 1-100"`
}

// Validate implements tools.Validator.
func (a AutoscaleArgs) Validate() error {
	if err := checkWorkloadArgs(a.Kind, a.Name, a.Namespace, 0, scaleKinds); err != nil {
		return err
	}
	if err := CheckRange("min_replicas", a.MinReplicas, 1, maxReplicas); err != nil {
		return err
	}
	if err := CheckRange("max_replicas", a.MaxReplicas, a.MinReplicas, maxReplicas); err != nil {
		return fmt.Errorf("%w (max_replicas may not be below min_replicas)", err)
	}
	return CheckRange("cpu_percent", a.CPUPercent, 1, 100)
}

// AutoscaleResult reports the HorizontalPodAutoscaler that was written.
type AutoscaleResult struct {
	Autoscaler  string `json:"autoscaler"`
	Namespace   string `json:"namespace"`
	Workload    string `json:"workload"`
	MinReplicas int32  `json:"minReplicas"`
	MaxReplicas int32  `json:"maxReplicas"`
	CPUPercent  int32  `json:"cpuPercent"`
	Created     bool   `json:"created"`
	Message     string `json:"message"`
}

// Autoscale declares autoscale.
func Autoscale(c *kube.Clients) tools.Tool {
	return tools.Define(NameAutoscale,
		"Create or update a CPU HorizontalPodAutoscaler.",
		tools.Write,
		func(ctx context.Context, a AutoscaleArgs) (tools.Action, error) { return prepareAutoscale(ctx, c, a) })
}

// hpaSettings is what autoscale sets on an autoscaler.
type hpaSettings struct{ min, max, cpu int32 }

func (s hpaSettings) String() string {
	return fmt.Sprintf("replicas %d–%d at %d%% CPU", s.min, s.max, s.cpu)
}

// setOn sets s in h's spec, keeping its other metrics.
func (s hpaSettings) setOn(h *autoscalingv2.HorizontalPodAutoscaler) {
	h.Spec.MinReplicas, h.Spec.MaxReplicas = ptr.To(s.min), s.max
	h.Spec.Metrics = withCPUMetric(h.Spec.Metrics, s.cpu)
}

func prepareAutoscale(ctx context.Context, c *kube.Clients, a AutoscaleArgs) (tools.Action, error) {
	w, err := findWorkload(ctx, c, a.Kind, a.Name, a.Namespace, scaleKinds)
	if err != nil {
		return nil, err
	}
	ref, ns := w.ref, w.ref.Namespace
	want := hpaSettings{min: int32(a.MinReplicas), max: int32(a.MaxReplicas), cpu: int32(a.CPUPercent)}
	live, err := autoscalerOf(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	name := ref.Name
	if live != nil {
		name = live.Name
	}
	desc := fmt.Sprintf("horizontalpodautoscaler/%s in %s", name, ns)
	targets := []tools.Target{{Kind: "HorizontalPodAutoscaler", Namespace: ns, Name: name}}
	notes := autoscaleNotes(w, want)
	hpas := c.Typed.AutoscalingV2().HorizontalPodAutoscalers(ns)

	if live == nil {
		hpa := &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: ref.Kind.title(), Name: ref.Name},
				MinReplicas:    ptr.To(want.min),
				MaxReplicas:    want.max,
				Metrics:        []autoscalingv2.MetricSpec{cpuMetric(want.cpu)},
			},
		}
		plan := tools.Preview{
			Summary: fmt.Sprintf("%s: create for %s: %s", desc, ref, want),
			Diff:    strings.Join(notes, "\n"),
			Targets: targets,
		}
		return tools.Mutation{Plan: plan, Apply: func(ctx context.Context) (any, error) {
			if _, err := hpas.Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
				if apierrors.IsAlreadyExists(err) {
					return nil, fmt.Errorf("%w: %s was created by someone else since you approved; re-run to see it", tools.ErrConflict, desc)
				}
				return nil, fmt.Errorf("create %s: %w", desc, err)
			}
			return &AutoscaleResult{Autoscaler: name, Namespace: ns, Workload: ref.String(), MinReplicas: want.min, MaxReplicas: want.max,
				CPUPercent: want.cpu, Created: true, Message: fmt.Sprintf("%s created: %s %s", desc, ref, want)}, nil
		}}, nil
	}

	have := hpaSettings{min: replicasOr1(live.Spec.MinReplicas), max: live.Spec.MaxReplicas, cpu: cpuTarget(live)}
	var changes []string
	if have.min != want.min {
		changes = append(changes, fmt.Sprintf("min %d → %d", have.min, want.min))
	}
	if have.max != want.max {
		changes = append(changes, fmt.Sprintf("max %d → %d", have.max, want.max))
	}
	if have.cpu != want.cpu {
		changes = append(changes, fmt.Sprintf("CPU target %s → %d%%", percentOrNone(have.cpu), want.cpu))
	}
	if len(changes) == 0 {
		return noChange(fmt.Sprintf("%s already scales %s: %s", desc, ref, want), targets...), nil
	}
	if kept := len(withCPUMetric(live.Spec.Metrics, want.cpu)) - 1; kept > 0 {
		notes = append(notes, fmt.Sprintf("its %d other metric(s) are kept", kept))
	}
	plan := tools.Preview{
		Summary: fmt.Sprintf("%s (for %s): %s", desc, ref, strings.Join(changes, ", ")),
		Diff:    strings.Join(notes, "\n"),
		Targets: targets,
	}
	// The autoscaler controller writes the status about every 15 s; only a
	// change of the spec, labels or annotations is a conflict.
	previewed := tools.PreviewedAPIObject(live, desc, hpas, func(h *autoscalingv2.HorizontalPodAutoscaler) any { return h.Spec })
	return tools.Mutation{Plan: plan, Apply: func(ctx context.Context) (any, error) {
		err := tools.WriteAsPreviewed(ctx, previewed, "update "+desc, func(ctx context.Context, h *autoscalingv2.HorizontalPodAutoscaler) error {
			want.setOn(h)
			_, err := hpas.Update(ctx, h, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return nil, err
		}
		return &AutoscaleResult{Autoscaler: name, Namespace: ns, Workload: ref.String(), MinReplicas: want.min, MaxReplicas: want.max,
			CPUPercent: want.cpu, Message: fmt.Sprintf("%s updated: %s", desc, strings.Join(changes, ", "))}, nil
	}}, nil
}

// autoscalerOf returns the autoscaler that scales ref, if any: the one named
// after it, else another that targets it (two autoscalers on one workload
// fight each other, so the existing one is updated rather than joined). An
// autoscaler named after ref that scales something else is an error.
func autoscalerOf(ctx context.Context, c *kube.Clients, ref workloadRef) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	var (
		found, other *autoscalingv2.HorizontalPodAutoscaler
		conflict     error
	)
	err := eachListed(ctx, metav1.ListOptions{}, c.Typed.AutoscalingV2().HorizontalPodAutoscalers(ref.Namespace).List, func(h *autoscalingv2.HorizontalPodAutoscaler) bool {
		t := h.Spec.ScaleTargetRef
		targetsRef := t.Kind == ref.Kind.title() && t.Name == ref.Name
		switch {
		case h.Name == ref.Name && targetsRef:
			found = h.DeepCopy()
			return false
		case h.Name == ref.Name:
			conflict = fmt.Errorf("horizontalpodautoscaler/%s in %s already exists and scales %s/%s, not %s; nothing was changed",
				h.Name, ref.Namespace, strings.ToLower(t.Kind), t.Name, ref)
			return false
		case targetsRef && other == nil:
			other = h.DeepCopy()
		}
		return true
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("list horizontalpodautoscalers in %s: %w", ref.Namespace, err)
	case conflict != nil:
		return nil, conflict
	case found != nil:
		return found, nil
	}
	return other, nil
}

// autoscaleNotes warns about what stops the autoscaler from working or
// what it will do at once.
func autoscaleNotes(w liveWorkload, want hpaSettings) []string {
	var notes []string
	for _, ctr := range w.template().Spec.Containers {
		if _, ok := ctr.Resources.Requests[corev1.ResourceCPU]; !ok {
			notes = append(notes, fmt.Sprintf("warning: container %s has no CPU request, so the autoscaler cannot compute CPU utilisation and will not scale; set one with set_resources (requests_cpu)", ctr.Name))
		}
	}
	if sc := w.progress().Desired; sc < want.min || sc > want.max {
		notes = append(notes, fmt.Sprintf("%s has replicas %d now; the autoscaler will move it into %d–%d", w.ref, sc, want.min, want.max))
	}
	return notes
}

func cpuMetric(percent int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(percent)},
		},
	}
}

// isCPUMetric reports whether m is the resource metric on CPU.
func isCPUMetric(m autoscalingv2.MetricSpec) bool {
	return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU
}

// cpuTarget is the autoscaler's CPU utilisation target, 0 if it has none.
func cpuTarget(h *autoscalingv2.HorizontalPodAutoscaler) int32 {
	for _, m := range h.Spec.Metrics {
		if isCPUMetric(m) && m.Resource.Target.AverageUtilization != nil {
			return *m.Resource.Target.AverageUtilization
		}
	}
	return 0
}

// withCPUMetric replaces the CPU metric (or adds one), keeping the others.
func withCPUMetric(metrics []autoscalingv2.MetricSpec, percent int32) []autoscalingv2.MetricSpec {
	out := []autoscalingv2.MetricSpec{cpuMetric(percent)}
	for _, m := range metrics {
		if !isCPUMetric(m) {
			out = append(out, m)
		}
	}
	return out
}

func percentOrNone(p int32) string {
	if p == 0 {
		return "none"
	}
	return fmt.Sprintf("%d%%", p)
}

package kubetools

import (
	"context"
	"fmt"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// scaleKinds are the workloads with a replica count.
var scaleKinds = []workloadKind{kindDeployment, kindStatefulSet}

// maxReplicas bounds scale requests. Nothing an agent is asked to do needs
// more, and a typo (or a model) asking for 10^9 must never reach the API.
const maxReplicas = 1000

// maxChangePercent bounds relative scaling: at most 11 times the replicas.
const maxChangePercent = 1000

// ScaleWorkloadArgs are scale_workload's arguments.
type ScaleWorkloadArgs struct {
	Kind           string `json:"kind,omitempty" enum:"deployment,statefulset" description:"Optional"`
	Name           string `json:"name" description:"Workload name"`
	Namespace      string `json:"namespace,omitempty" description:"Default: current namespace"`
	Replicas       *int   `json:"replicas,omitempty" description:"0-1000, or give change_percent"`
	ChangePercent  *int   `json:"change_percent,omitempty" description:"-100 to 1000; 100 doubles, -50 halves"`
	Wait           *bool  `json:"wait,omitempty" description:"Default true"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" description:"Default 120"`
}

// Validate implements tools.Validator.
func (a ScaleWorkloadArgs) Validate() error {
	if _, err := parseWorkloadKind(a.Kind, scaleKinds); err != nil {
		return err
	}
	if err := CheckName("name", a.Name); err != nil {
		return err
	}
	if err := CheckNamespace(a.Namespace); err != nil {
		return err
	}
	switch {
	case (a.Replicas == nil) == (a.ChangePercent == nil):
		return fmt.Errorf("give exactly one of replicas and change_percent")
	case a.Replicas != nil:
		if err := CheckRange("replicas", *a.Replicas, 0, maxReplicas); err != nil {
			return fmt.Errorf("%w; nothing was changed", err)
		}
	default:
		if err := CheckRange("change_percent", *a.ChangePercent, -100, maxChangePercent); err != nil {
			return fmt.Errorf("%w; nothing was changed", err)
		}
	}
	return CheckRange("timeout_seconds", a.TimeoutSeconds, 0, MaxTimeoutSeconds)
}

// ScaleResult reports a scale and whether the workload got there.
type ScaleResult struct {
	Workload  string `json:"workload"`
	Namespace string `json:"namespace"`
	Before    int32  `json:"before"`
	After     int32  `json:"after"`
	*RolloutOutcome
	Message string `json:"message"`
}

// ScaleWorkload declares scale_workload.
func ScaleWorkload(c *kube.Clients) tools.Tool {
	return tools.Define(NameScaleWorkload,
		"Scale a deployment or statefulset.",
		tools.Write,
		func(ctx context.Context, a ScaleWorkloadArgs) (tools.Action, error) { return prepareScale(ctx, c, a) })
}

func prepareScale(ctx context.Context, c *kube.Clients, a ScaleWorkloadArgs) (tools.Action, error) {
	w, err := findWorkload(ctx, c, a.Kind, a.Name, a.Namespace, scaleKinds)
	if err != nil {
		return nil, err
	}
	ref, ns := w.ref, w.ref.Namespace
	before := w.replicas()
	after, note, err := desiredReplicas(ref, before, a)
	if err != nil {
		return nil, err
	}
	if before != after {
		// A server-side dry run: a caller the API server would refuse (no
		// update on the scale subresource, a quota, an admission webhook)
		// learns it now, before anyone is asked to approve a change that
		// cannot be made. A conflict is left to the write itself.
		if err := updateScale(ctx, c, w, after, true); err != nil && !apierrors.IsConflict(err) {
			return nil, fmt.Errorf("scale %s to %d: %w", ref.describe(), after, err)
		}
	}
	plan := tools.Preview{Summary: fmt.Sprintf("%s: replicas %d → %d%s", ref.describe(), before, after, note)}
	switch {
	case before == after:
		plan = tools.Preview{Summary: fmt.Sprintf("%s already has %d replicas%s", ref.describe(), after, note), NoChange: true}
	case after == 0:
		// Scaling to zero stops the workload: destructive, whatever the
		// tool's usual risk.
		plan.Risk = tools.Destructive
		plan.Diff = "stops every pod of " + ref.String() + "; it serves nothing until scaled up again"
	}
	plan.Targets = []tools.Target{ref.target()}
	if hpa := autoscalerFor(ctx, c, ref); hpa != "" {
		plan.Diff = strings.TrimPrefix(plan.Diff+"\n"+hpa, "\n")
	}
	apply := func(ctx context.Context) (any, error) {
		what := fmt.Sprintf("scale %s to %d", ref.describe(), after)
		err := tools.WriteAsPreviewed(ctx, w.previewed(c), what, func(ctx context.Context, w liveWorkload) error {
			return updateScale(ctx, c, w, after, false)
		})
		if err != nil {
			return nil, err
		}
		res := &ScaleResult{Workload: ref.String(), Namespace: ns, Before: before, After: after}
		if !ptr.Deref(a.Wait, true) {
			res.Message = fmt.Sprintf("%s scaled from %d to %d replicas; not waiting for them (rollout_status checks progress)", ref.describe(), before, after)
			return res, nil
		}
		timeout := TimeoutFor(a.TimeoutSeconds)
		res.RolloutOutcome, err = waitRollout(ctx, c, ref, timeout, func(p RolloutProgress) bool {
			return p.Done && p.Ready == after
		})
		if err != nil {
			return res, err
		}
		p := res.Progress
		if res.Converged {
			res.Message = fmt.Sprintf("%s scaled from %d to %d replicas; %d/%d ready after %s", ref.describe(), before, after, p.Ready, after, res.Elapsed)
		} else {
			res.Message = fmt.Sprintf("%s scaled from %d to %d replicas, but only %d/%d are ready after %s (%s); the pods below show why",
				ref.describe(), before, after, p.Ready, after, timeout, p.Message)
			return res, notConverged(ref, res.RolloutOutcome, res.Message)
		}
		return res, nil
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// desiredReplicas is the replica count asked for: given, or computed from
// the live count and change_percent, rounding half up (3 replicas -50% → 2).
// note is what the preview adds to show the percentage ("(+100%)").
func desiredReplicas(ref workloadRef, before int32, a ScaleWorkloadArgs) (after int32, note string, err error) {
	if a.Replicas != nil {
		return int32(*a.Replicas), "", nil
	}
	pct := *a.ChangePercent
	if before == 0 && pct != -100 {
		return 0, "", fmt.Errorf("%w: %s has 0 replicas, and a percentage of 0 is still 0; give replicas instead; nothing was changed",
			tools.ErrInvalidArgs, ref.describe())
	}
	n := (int(before)*(100+pct) + 50) / 100
	if n > maxReplicas {
		return 0, "", fmt.Errorf("%w: %s has %d replicas; %+d%% would make %d, more than %d; nothing was changed",
			tools.ErrInvalidArgs, ref.describe(), before, pct, n, maxReplicas)
	}
	return int32(n), fmt.Sprintf(" (%+d%%)", pct), nil
}

// updateScale sets the replicas of w through its scale subresource (what
// kubectl scale writes), bound to the resourceVersion w was read with. With
// dryRun the API server checks the write (RBAC on the scale subresource,
// admission) and changes nothing.
func updateScale(ctx context.Context, c *kube.Clients, w liveWorkload, replicas int32, dryRun bool) error {
	m := w.meta()
	s := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion},
		Spec:       autoscalingv1.ScaleSpec{Replicas: replicas},
	}
	apps, opts := c.Typed.AppsV1(), metav1.UpdateOptions{}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var err error
	switch w.ref.Kind {
	case kindDeployment:
		_, err = apps.Deployments(m.Namespace).UpdateScale(ctx, m.Name, s, opts)
	case kindStatefulSet:
		_, err = apps.StatefulSets(m.Namespace).UpdateScale(ctx, m.Name, s, opts)
	default:
		err = fmt.Errorf("%w: %s cannot be scaled; only deployments and statefulsets have replicas", tools.ErrInvalidArgs, w.ref.Kind)
	}
	return err
}

// autoscalerFor warns when a HorizontalPodAutoscaler manages the workload:
// it will move the replica count back within its bounds. A failed lookup
// only loses the warning.
func autoscalerFor(ctx context.Context, c *kube.Clients, ref workloadRef) string {
	var note string
	_ = eachListed(ctx, metav1.ListOptions{}, c.Typed.AutoscalingV2().HorizontalPodAutoscalers(ref.Namespace).List, func(h *autoscalingv2.HorizontalPodAutoscaler) bool {
		t := h.Spec.ScaleTargetRef
		if t.Kind == ref.Kind.title() && t.Name == ref.Name {
			note = fmt.Sprintf("note: HorizontalPodAutoscaler %s manages %s (min %d, max %d) and may change the replica count back",
				h.Name, ref.String(), replicasOr1(h.Spec.MinReplicas), h.Spec.MaxReplicas)
			return false
		}
		return true
	})
	return note
}

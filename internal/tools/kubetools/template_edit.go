package kubetools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// This file holds what set_image, set_resources and set_env share: find the
// workload and the container, change a copy of its pod template, preview the
// change, write it as previewed (tools.WriteAsPreviewed), and wait for the
// rollout, which fails with tools.ErrNotConverged when it never completes.

// containerRequest names the container a template tool changes and how to
// wait for the result. Each tool's args fill it in.
type containerRequest struct {
	Kind           string
	Name           string
	Namespace      string
	Container      string
	Wait           *bool
	TimeoutSeconds int
}

// containerChange is what an edit did to a container.
type containerChange struct {
	// Summary is the change in one line ("image a → b"); empty when the
	// container already matches the request.
	Summary string
	// Diff is optional detail, one line per changed field.
	Diff string
	// Unchanged says what already holds ("already runs image a").
	Unchanged string
}

// containerEdit changes ctr (a copy: the live object is untouched) and says
// what it changed. ref and spec give context for messages and checks.
type containerEdit func(ctx context.Context, ref workloadRef, spec *corev1.PodSpec, ctr *corev1.Container) (containerChange, error)

// TemplateChangeResult reports a change to a workload's pod template.
type TemplateChangeResult struct {
	Workload       string `json:"workload"`
	Namespace      string `json:"namespace"`
	Container      string `json:"container"`
	Change         string `json:"change"`
	RevisionBefore string `json:"revisionBefore"`
	RevisionAfter  string `json:"revisionAfter,omitempty"`
	*RolloutOutcome
	Message string `json:"message"`
}

// prepareContainerEdit plans one edit of one container of a workload.
func prepareContainerEdit(ctx context.Context, c *kube.Clients, r containerRequest, edit containerEdit) (tools.Action, error) {
	live, err := findWorkload(ctx, c, r.Kind, r.Name, r.Namespace, rolloutKinds)
	if err != nil {
		return nil, err
	}
	ref, ns := live.ref, live.ref.Namespace
	if live.deploy != nil && live.deploy.Spec.Paused {
		return nil, fmt.Errorf("%s is paused, so a change to its pods would not roll out; resume it first (kubectl rollout resume %s -n %s)", ref.describe(), ref, ns)
	}
	// The edit changes a copy; Run writes the edited template.
	edited := live.DeepCopy()
	tmpl := edited.template()
	spec := &tmpl.Spec
	ctr, err := templateContainer(ref, tmpl, r.Container)
	if err != nil {
		return nil, err
	}
	change, err := edit(ctx, ref, spec, ctr)
	if err != nil {
		return nil, err
	}
	targets := []tools.Target{ref.target()}
	if change.Summary == "" {
		return noChange(fmt.Sprintf("%s: container %s %s", ref.describe(), ctr.Name, change.Unchanged), targets...), nil
	}
	container := ctr.Name
	before := live.revision()
	plan := tools.Preview{
		Summary: fmt.Sprintf("%s: container %s %s", ref.describe(), container, change.Summary),
		Diff:    change.Diff,
		Targets: targets,
	}
	apply := func(ctx context.Context) (any, error) {
		err := tools.WriteAsPreviewed(ctx, live.previewed(c), "update "+ref.describe(), func(ctx context.Context, w liveWorkload) error {
			*w.template() = *tmpl
			return putWorkload(ctx, c, w)
		})
		if err != nil {
			return nil, err
		}
		res := &TemplateChangeResult{Workload: ref.String(), Namespace: ns, Container: container, Change: change.Summary, RevisionBefore: before}
		res.Message = fmt.Sprintf("%s updated; not waiting for the rollout (rollout_status follows it)", ref.describe())
		if ptr.Deref(r.Wait, true) {
			timeout := TimeoutFor(r.TimeoutSeconds)
			if res.RolloutOutcome, err = waitRollout(ctx, c, ref, timeout, rolledOut); err != nil {
				return res, err
			}
			res.Message = rolloutMessage(ref, res.RolloutOutcome, timeout.String())
			if !res.Converged {
				return res, notConverged(ref, res.RolloutOutcome, res.Message)
			}
			if w, err := getWorkload(ctx, c, ref); err == nil {
				res.RevisionAfter = w.revision()
			}
		}
		return res, nil
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// notConverged is the error of a change that was made but whose rollout
// never completed, with the reasons its pods give.
func notConverged(ref workloadRef, o *RolloutOutcome, message string) error {
	pods := make([]string, 0, len(o.NotReadyPods))
	for _, p := range o.NotReadyPods {
		pods = append(pods, fmt.Sprintf("%s %s", p.Name, p.Status))
	}
	if len(pods) > 0 {
		message += "; not ready: " + strings.Join(pods, ", ")
	}
	undo := "set the previous value again"
	if ref.Kind == kindDeployment {
		undo = "roll back with rollback_deployment"
	}
	return fmt.Errorf("%w: the change was made but %s; fix the cause, or %s", tools.ErrNotConverged, message, undo)
}

// target is the workload as a gate target.
func (w workloadRef) target() tools.Target {
	return tools.Target{Kind: w.Kind.title(), Namespace: w.Namespace, Name: w.Name}
}

// templateContainer finds the container of a pod template that name refers
// to (chooseContainer's rules), to be changed in place.
func templateContainer(ref workloadRef, tmpl *corev1.PodTemplateSpec, name string) (*corev1.Container, error) {
	name, err := chooseContainer(ref.describe(), &tmpl.Spec, tmpl.Annotations, name)
	if err != nil {
		return nil, err
	}
	spec := &tmpl.Spec
	for _, list := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		if i := slices.IndexFunc(list, func(c corev1.Container) bool { return c.Name == name }); i >= 0 {
			return &list[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %s has no container %q", tools.ErrNotFound, ref.describe(), name)
}

// checkWorkloadArgs validates the arguments every workload tool shares.
func checkWorkloadArgs(kind, name, namespace string, timeoutSeconds int, kinds []workloadKind) error {
	if _, err := parseWorkloadKind(kind, kinds); err != nil {
		return err
	}
	if err := CheckName("name", name); err != nil {
		return err
	}
	if err := CheckNamespace(namespace); err != nil {
		return err
	}
	return CheckRange("timeout_seconds", timeoutSeconds, 0, MaxTimeoutSeconds)
}

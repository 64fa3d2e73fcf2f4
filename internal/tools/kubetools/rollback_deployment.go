package kubetools

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// RollbackDeploymentArgs are rollback_deployment's arguments.
type RollbackDeploymentArgs struct {
	Name           string `json:"name" description:"Deployment name"`
	Namespace      string `json:"namespace,omitempty" description:"Default: current namespace"`
	Revision       int    `json:"revision,omitempty" description:"Target revision (0 = previous)"`
	Wait           *bool  `json:"wait,omitempty" description:"Default true"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" description:"Default 120"`
}

// Validate implements tools.Validator.
func (a RollbackDeploymentArgs) Validate() error {
	if err := CheckName("name", a.Name); err != nil {
		return err
	}
	if err := CheckNamespace(a.Namespace); err != nil {
		return err
	}
	if a.Revision < 0 {
		return fmt.Errorf("revision must be 0 (the previous one) or a positive revision number, got %d", a.Revision)
	}
	return CheckRange("timeout_seconds", a.TimeoutSeconds, 0, MaxTimeoutSeconds)
}

// RollbackResult reports a rollback.
type RollbackResult struct {
	Deployment   string   `json:"deployment"`
	Namespace    string   `json:"namespace"`
	FromRevision int64    `json:"fromRevision"`
	ToRevision   int64    `json:"toRevision"`
	ImageChanges []string `json:"imageChanges,omitempty"`
	*RolloutOutcome
	Message string `json:"message"`
}

// Annotations kubectl keeps from the Deployment rather than copying from the
// ReplicaSet on rollback (kubectl's annotationsToSkip).
var rollbackSkippedAnnotations = []string{
	corev1.LastAppliedConfigAnnotation,
	revisionAnnotation,
	"deployment.kubernetes.io/revision-history",
	"deployment.kubernetes.io/desired-replicas",
	"deployment.kubernetes.io/max-replicas",
	"deprecated.deployment.rollback.to",
}

// RollbackDeployment declares rollback_deployment.
func RollbackDeployment(c *kube.Clients) tools.Tool {
	return tools.Define(NameRollbackDeployment,
		"kubectl rollout undo.",
		tools.Write,
		func(ctx context.Context, a RollbackDeploymentArgs) (tools.Action, error) {
			return prepareRollback(ctx, c, a)
		})
}

func prepareRollback(ctx context.Context, c *kube.Clients, a RollbackDeploymentArgs) (tools.Action, error) {
	w, err := findWorkload(ctx, c, string(kindDeployment), a.Name, a.Namespace, []workloadKind{kindDeployment})
	if err != nil {
		return nil, err
	}
	ref, ns := w.ref, w.ref.Namespace
	d := w.deploy
	if d.Spec.Paused {
		return nil, fmt.Errorf("%s is paused and a paused deployment cannot be rolled back; resume it first (kubectl rollout resume %s -n %s)", ref.describe(), ref, ns)
	}
	history, err := revisionHistory(ctx, c, d)
	if err != nil {
		return nil, err
	}
	current, _ := strconv.ParseInt(d.Annotations[revisionAnnotation], 10, 64)
	target, err := pickRevision(ref, history, current, int64(a.Revision))
	if err != nil {
		return nil, err
	}
	rs := history[target]
	tmpl := rs.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	changes := imageChanges(&d.Spec.Template.Spec, &tmpl.Spec)
	if apiequality.Semantic.DeepEqual(tmpl, &d.Spec.Template) {
		return noChange(fmt.Sprintf("%s already runs the template of revision %d", ref.describe(), target), ref.target()), nil
	}
	plan := tools.Preview{Summary: fmt.Sprintf("%s: roll back revision %d → %d", ref.describe(), current, target), Targets: []tools.Target{ref.target()}}
	if len(changes) > 0 {
		plan.Diff = strings.Join(changes, "\n")
	} else {
		plan.Diff = "images are unchanged; other pod template fields (env, resources, probes, ...) revert"
	}

	apply := func(ctx context.Context) (any, error) {
		what := fmt.Sprintf("roll back %s to revision %d", ref.describe(), target)
		err := tools.WriteAsPreviewed(ctx, w.previewed(c), what, func(ctx context.Context, w liveWorkload) error {
			w.deploy.Spec.Template = *tmpl
			w.deploy.Annotations = rollbackAnnotations(w.deploy.Annotations, rs.Annotations)
			return putWorkload(ctx, c, w)
		})
		if err != nil {
			return nil, err
		}
		res := &RollbackResult{Deployment: ref.String(), Namespace: ns, FromRevision: current, ToRevision: target, ImageChanges: changes}
		res.Message = fmt.Sprintf("%s rolled back to the template of revision %d (the controller records it as a new revision); not waiting for the rollout (rollout_status follows it)",
			ref.describe(), target)
		if ptr.Deref(a.Wait, true) {
			if res.RolloutOutcome, err = waitRollout(ctx, c, ref, TimeoutFor(a.TimeoutSeconds), rolledOut); err != nil {
				return res, err
			}
			res.Message = fmt.Sprintf("rolled back to the template of revision %d (the controller records it as a new revision); %s",
				target, rolloutMessage(ref, res.RolloutOutcome, TimeoutFor(a.TimeoutSeconds).String()))
			if !res.Converged {
				return res, notConverged(ref, res.RolloutOutcome, res.Message)
			}
		}
		return res, nil
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// revisionHistory maps revision numbers to the ReplicaSets the Deployment
// controls (by controller reference, not just by selector).
func revisionHistory(ctx context.Context, c *kube.Clients, d *appsv1.Deployment) (map[int64]*appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has an invalid selector: %w", d.Namespace, d.Name, err)
	}
	history := map[int64]*appsv1.ReplicaSet{}
	err = eachListed(ctx, metav1.ListOptions{LabelSelector: sel.String()}, c.Typed.AppsV1().ReplicaSets(d.Namespace).List, func(rs *appsv1.ReplicaSet) bool {
		if ref := metav1.GetControllerOfNoCopy(rs); ref == nil || ref.UID != d.UID {
			return true
		}
		if v, err := strconv.ParseInt(rs.Annotations[revisionAnnotation], 10, 64); err == nil {
			history[v] = rs.DeepCopy()
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("list replicasets of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return history, nil
}

// pickRevision chooses the revision to restore: the one asked for, or the
// newest one before the current revision.
func pickRevision(ref workloadRef, history map[int64]*appsv1.ReplicaSet, current, want int64) (int64, error) {
	revs := slices.Sorted(maps.Keys(history))
	known := make([]string, len(revs))
	for i, r := range revs {
		known[i] = strconv.FormatInt(r, 10)
	}
	if want > 0 {
		if _, ok := history[want]; !ok {
			return 0, fmt.Errorf("%w: %s has no revision %d; its revisions are %s", tools.ErrNotFound, ref.describe(), want, cmpOrNone(known))
		}
		return want, nil
	}
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i] < current {
			return revs[i], nil
		}
	}
	return 0, fmt.Errorf("%w: %s has no previous revision to roll back to (revisions kept: %s; revisionHistoryLimit may have removed older ones); nothing was changed",
		tools.ErrNotFound, ref.describe(), cmpOrNone(known))
}

func cmpOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// rollbackAnnotations is what kubectl rollout undo sets: the Deployment's
// own bookkeeping annotations, plus the ReplicaSet's other annotations
// (change-cause and the like).
func rollbackAnnotations(deploy, rs map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range rollbackSkippedAnnotations {
		if v, ok := deploy[k]; ok {
			out[k] = v
		}
	}
	for k, v := range rs {
		if !slices.Contains(rollbackSkippedAnnotations, k) {
			out[k] = v
		}
	}
	return out
}

// imageChanges lists "container app: image a → b" for containers whose
// image differs, and containers that appear or disappear.
func imageChanges(from, to *corev1.PodSpec) []string {
	images := func(s *corev1.PodSpec) map[string]string {
		m := map[string]string{}
		for _, c := range slices.Concat(s.InitContainers, s.Containers) {
			m[c.Name] = c.Image
		}
		return m
	}
	a, b := images(from), images(to)
	var out []string
	for _, name := range slices.Sorted(maps.Keys(b)) {
		switch old, ok := a[name]; {
		case !ok:
			out = append(out, fmt.Sprintf("container %s: added (image %s)", name, b[name]))
		case old != b[name]:
			out = append(out, fmt.Sprintf("container %s: image %s → %s", name, old, b[name]))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(a)) {
		if _, ok := b[name]; !ok {
			out = append(out, fmt.Sprintf("container %s: removed (image %s)", name, a[name]))
		}
	}
	return out
}

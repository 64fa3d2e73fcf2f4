package nodetools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// DrainNodeArgs are drain_node's arguments.
type DrainNodeArgs struct {
	Name               string `json:"name" description:"Node name"`
	TimeoutSeconds     int    `json:"timeout_seconds,omitempty" description:"Seconds to wait for evictions (default 120, max 1800)"`
	DeleteEmptyDirData bool   `json:"delete_emptydir_data,omitempty" description:"Evict pods with emptyDir volumes too, losing that data"`
}

// Validate implements tools.Validator.
func (a DrainNodeArgs) Validate() error {
	return errors.Join(checkNodeName(a.Name),
		kubetools.CheckRange("timeout_seconds", a.TimeoutSeconds, 0, kubetools.MaxTimeoutSeconds))
}

// DrainPod is one pod a drain evicts, leaves alone or is stopped by.
type DrainPod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Owner is the pod's controller ("replicaset/web-5d9"); empty for a bare pod.
	Owner string `json:"owner,omitempty"`
	// Reason says why the pod is ignored, blocks the drain, or is still there.
	Reason string `json:"reason,omitempty"`

	uid types.UID
}

func (p DrainPod) String() string { return p.Namespace + "/" + p.Name }

// describe is the pod with its owner and reason, for previews and errors.
func (p DrainPod) describe() string {
	var notes []string
	if p.Owner != "" {
		notes = append(notes, p.Owner)
	}
	if p.Reason != "" {
		notes = append(notes, p.Reason)
	}
	if len(notes) == 0 {
		return p.String()
	}
	return p.String() + " (" + strings.Join(notes, ": ") + ")"
}

// DrainResult reports a drain.
type DrainResult struct {
	Node string `json:"node"`
	// Cordoned is true when this drain cordoned the node (false: it already was).
	Cordoned bool       `json:"cordoned"`
	Evicted  []DrainPod `json:"evicted"`
	Ignored  []DrainPod `json:"ignored,omitempty"`
	// Remaining are previewed pods still on the node when the wait ended.
	Remaining []DrainPod `json:"remaining,omitempty"`
	// Unplanned are pods that reached the node after the preview; they
	// were not evicted (run drain_node again to preview them).
	Unplanned []DrainPod `json:"unplanned,omitempty"`
	Elapsed   string     `json:"elapsed"`
	Message   string     `json:"message"`
}

// DrainNode declares drain_node.
func DrainNode(c *kube.Clients) tools.Tool {
	return tools.Define(NameDrainNode,
		"Cordon a node and evict its pods (PDBs honoured).",
		tools.Destructive,
		func(ctx context.Context, a DrainNodeArgs) (tools.Action, error) { return prepareDrain(ctx, c, a) })
}

// drainPlan is what a drain will do, read from the live state.
type drainPlan struct {
	cordon            schedulingChange
	evict             []DrainPod
	ignored, blocking []DrainPod
	// budgets are the PodDisruptionBudgets that hold the evictions back.
	budgets []budgetNote
	timeout time.Duration
}

func prepareDrain(ctx context.Context, c *kube.Clients, a DrainNodeArgs) (tools.Action, error) {
	node, err := getNode(ctx, c, a.Name)
	if err != nil {
		return nil, err
	}
	pods, err := podsOn(ctx, c, node.Name)
	if err != nil {
		return nil, err
	}
	plan := &drainPlan{cordon: schedulingChange{node: node, unschedulable: true}, timeout: kubetools.TimeoutFor(a.TimeoutSeconds)}
	var evictPods []corev1.Pod
	for i := range pods {
		p := &pods[i]
		dp := DrainPod{Namespace: p.Namespace, Name: p.Name, Owner: ownerOf(p), uid: p.UID}
		if dp.Reason = ignoreReason(p); dp.Reason != "" {
			plan.ignored = append(plan.ignored, dp)
			continue
		}
		if dp.Reason = blockReason(p, a.DeleteEmptyDirData); dp.Reason != "" {
			plan.blocking = append(plan.blocking, dp)
			continue
		}
		plan.evict = append(plan.evict, dp)
		evictPods = append(evictPods, *p)
	}
	if len(plan.blocking) > 0 {
		// Evicting some pods and then stopping would leave a half-drained
		// node; kubectl refuses up front too.
		return nil, fmt.Errorf("drain node/%s refused: %d pod(s) cannot be evicted safely: %s; nothing was changed (%d other pod(s) could be evicted)",
			node.Name, len(plan.blocking), describePods(plan.blocking), len(plan.evict))
	}
	if plan.budgets, err = budgetNotes(ctx, c, evictPods); err != nil {
		return nil, err
	}
	targets := []tools.Target{nodeTarget(node.Name)}
	for _, p := range plan.evict {
		targets = append(targets, tools.Target{Kind: "Pod", Namespace: p.Namespace, Name: p.Name})
	}
	preview := tools.Preview{Summary: plan.summary(), Diff: plan.diff(), Targets: targets,
		NoChange: !plan.cordon.needed() && len(plan.evict) == 0}
	return tools.Mutation{Plan: preview, Apply: plan.run(c)}, nil
}

// podsOn lists every pod bound to the node, in all namespaces, sorted.
func podsOn(ctx context.Context, c *kube.Clients, node string) ([]corev1.Pod, error) {
	sel := fields.OneTermEqualSelector("spec.nodeName", node).String()
	var pods []corev1.Pod
	opts := metav1.ListOptions{FieldSelector: sel, Limit: 500}
	for {
		l, err := c.Typed.CoreV1().Pods(metav1.NamespaceAll).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list the pods on node/%s: %w", node, err)
		}
		pods = append(pods, l.Items...)
		if opts.Continue = l.Continue; opts.Continue == "" {
			break
		}
	}
	slices.SortFunc(pods, func(a, b corev1.Pod) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return pods, nil
}

func ownerOf(p *corev1.Pod) string {
	if ref := metav1.GetControllerOf(p); ref != nil {
		return strings.ToLower(ref.Kind) + "/" + ref.Name
	}
	return ""
}

// ignoreReason says why a drain leaves the pod where it is, as kubectl
// drain --ignore-daemonsets does, or "" when it evicts the pod.
func ignoreReason(p *corev1.Pod) string {
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return "static pod: the kubelet runs it from a manifest on the node"
	}
	if finished(p) {
		return ""
	}
	if ref := metav1.GetControllerOf(p); ref != nil && ref.Kind == "DaemonSet" {
		return "DaemonSet pod: not evicted (its DaemonSet would put it back); it stops with the node"
	}
	return ""
}

// blockReason says why evicting the pod would lose something, or "".
func blockReason(p *corev1.Pod, deleteEmptyDir bool) string {
	if finished(p) {
		return ""
	}
	if metav1.GetControllerOf(p) == nil {
		return "bare pod with no controller: evicted, it would be gone for good; delete it with delete_pod if that is intended, or give it a controller"
	}
	if !deleteEmptyDir {
		for _, v := range p.Spec.Volumes {
			if v.EmptyDir != nil {
				return fmt.Sprintf("emptyDir volume %q: its data would be lost; pass delete_emptydir_data=true to accept that", v.Name)
			}
		}
	}
	return ""
}

func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// budgetNote is a PodDisruptionBudget that holds a drain back.
type budgetNote struct {
	// state names the budget, its numbers and the pods it covers.
	state string
	// blocks is set when it allows no disruption now: the drain waits for
	// more of its pods to become healthy, and fails if none do in time.
	blocks bool
}

// budgetNotes describes the PodDisruptionBudgets covering the pods to evict
// that will hold the drain back: those allowing no disruption now, and those
// allowing fewer than the pods they cover here.
func budgetNotes(ctx context.Context, c *kube.Clients, pods []corev1.Pod) ([]budgetNote, error) {
	if len(pods) == 0 {
		return nil, nil
	}
	l, err := c.Typed.PolicyV1().PodDisruptionBudgets(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list PodDisruptionBudgets: %w", err)
	}
	var notes []budgetNote
	for i := range l.Items {
		pdb := &l.Items[i]
		covered := coveredPods(pdb, pods)
		if len(covered) == 0 {
			continue
		}
		allowed := pdb.Status.DisruptionsAllowed
		state := fmt.Sprintf("poddisruptionbudget/%s in %s (%s; %d healthy, %d needed) allows %d disruption(s) now and covers %s",
			pdb.Name, pdb.Namespace, budgetRule(pdb), pdb.Status.CurrentHealthy, pdb.Status.DesiredHealthy, allowed, strings.Join(covered, ", "))
		if allowed <= 0 || int(allowed) < len(covered) {
			notes = append(notes, budgetNote{state: state, blocks: allowed <= 0})
		}
	}
	return notes, nil
}

func budgetRule(pdb *policyv1.PodDisruptionBudget) string {
	switch {
	case pdb.Spec.MinAvailable != nil:
		return "minAvailable " + pdb.Spec.MinAvailable.String()
	case pdb.Spec.MaxUnavailable != nil:
		return "maxUnavailable " + pdb.Spec.MaxUnavailable.String()
	}
	return "no rule"
}

// coveredPods names the pods a budget selects (same namespace, matching
// labels; a nil selector selects nothing in policy/v1).
func coveredPods(pdb *policyv1.PodDisruptionBudget, pods []corev1.Pod) []string {
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range pods {
		if p.Namespace == pdb.Namespace && sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p.Namespace+"/"+p.Name)
		}
	}
	return out
}

func (p *drainPlan) summary() string {
	ref := "node/" + p.cordon.node.Name
	if !p.cordon.needed() && len(p.evict) == 0 {
		return ref + " is already cordoned and has no pods to evict"
	}
	var b strings.Builder
	if p.cordon.needed() {
		b.WriteString(ref + ": cordon, then evict ")
	} else {
		b.WriteString(ref + " (already cordoned): evict ")
	}
	fmt.Fprintf(&b, "%d pod(s)", len(p.evict))
	if len(p.ignored) > 0 {
		fmt.Fprintf(&b, "; %d pod(s) ignored", len(p.ignored))
	}
	if len(p.budgets) > 0 {
		fmt.Fprintf(&b, "; %d PodDisruptionBudget(s) hold evictions back", len(p.budgets))
	}
	return b.String()
}

func (p *drainPlan) diff() string {
	var b strings.Builder
	if p.cordon.needed() {
		fmt.Fprintf(&b, "cordon: %s\n", p.cordon.summary())
	}
	fmt.Fprintf(&b, "evict %d pod(s) through the Eviction API (PodDisruptionBudgets honoured; waiting at most %s):\n", len(p.evict), p.timeout)
	for _, pod := range p.evict {
		b.WriteString("  " + pod.describe() + "\n")
	}
	if len(p.ignored) > 0 {
		fmt.Fprintf(&b, "ignored %d pod(s):\n", len(p.ignored))
		for _, pod := range p.ignored {
			b.WriteString("  " + pod.describe() + "\n")
		}
	}
	for _, note := range p.budgets {
		consequence := "the evictions go one at a time as replacements become healthy"
		if note.blocks {
			consequence = fmt.Sprintf("the drain would wait for it and fail after %s unless more of its pods become healthy", p.timeout)
		}
		b.WriteString("PodDisruptionBudget: " + note.state + ": " + consequence + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func describePods(pods []DrainPod) string {
	parts := make([]string, len(pods))
	for i, p := range pods {
		parts[i] = p.describe()
	}
	return strings.Join(parts, "; ")
}

package nodetools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// How often a drain asks again after a refused eviction (kubectl waits 5s)
// and checks whether evicted pods are gone.
const (
	evictRetryInterval = 2 * time.Second
	goneCheckInterval  = 500 * time.Millisecond
)

// run cordons the node, evicts the previewed pods until each is accepted or
// the timeout ends, then waits for them to be gone.
func (p *drainPlan) run(c *kube.Clients) func(context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		start := time.Now()
		node := p.cordon.node.Name
		res := &DrainResult{Node: node, Evicted: []DrainPod{}, Ignored: p.ignored}
		if p.cordon.needed() {
			if err := p.cordon.apply(ctx, c); err != nil {
				return nil, err
			}
			res.Cordoned = true
		}
		wctx, cancel := context.WithTimeout(ctx, p.timeout)
		defer cancel()
		accepted, refused, err := evictAll(wctx, c, p.evict)
		if err != nil {
			res.Evicted = append(res.Evicted, accepted...)
			return res, fmt.Errorf("drain node/%s: %w; the node stays cordoned (uncordon_node undoes that)", node, err)
		}
		res.Remaining = append(refused, waitGone(wctx, c, accepted)...)
		for _, pod := range p.evict {
			if !containsPod(res.Remaining, pod) {
				res.Evicted = append(res.Evicted, pod)
			}
		}
		res.Unplanned = unplanned(ctx, c, node, p)
		res.Elapsed = time.Since(start).Round(100 * time.Millisecond).String()
		if ctx.Err() != nil {
			return res, fmt.Errorf("drain node/%s interrupted: %w", node, ctx.Err())
		}
		if len(res.Remaining) > 0 {
			res.Message = fmt.Sprintf("node/%s is cordoned, but after %s %d pod(s) are still on it: %s",
				node, p.timeout, len(res.Remaining), describePods(res.Remaining))
			return res, fmt.Errorf("%w: %s%s. Free what blocks them (a PodDisruptionBudget needs more healthy pods elsewhere) and run drain_node again, or uncordon_node to put the node back in service",
				tools.ErrNotConverged, res.Message, p.blockingBudgets())
		}
		res.Message = fmt.Sprintf("node/%s drained: %d pod(s) evicted, %d ignored, in %s", node, len(res.Evicted), len(res.Ignored), res.Elapsed)
		if len(res.Unplanned) > 0 {
			res.Message += fmt.Sprintf("; %d pod(s) reached the node after the preview and were left alone: %s (run drain_node again)",
				len(res.Unplanned), describePods(res.Unplanned))
		}
		return res, nil
	}
}

// evictAll asks the Eviction API to evict each pod, retrying the ones a
// PodDisruptionBudget refuses (429) until ctx ends. It returns the pods
// whose eviction was accepted (or that are already gone) and those still
// refused, with the last refusal as Reason. Any other error stops the drain.
func evictAll(ctx context.Context, c *kube.Clients, pods []DrainPod) (accepted, refused []DrainPod, err error) {
	pending := pods
	for len(pending) > 0 {
		var next []DrainPod
		for _, pod := range pending {
			switch reason, err := evict(ctx, c, pod); {
			case err != nil:
				return accepted, nil, err
			case reason != "":
				// An attempt cut short by the deadline says less than
				// the refusal before it.
				if ctx.Err() == nil || pod.Reason == "" {
					pod.Reason = reason
				}
				next = append(next, pod)
			default:
				accepted = append(accepted, pod)
			}
		}
		if pending = next; len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return accepted, pending, nil
		case <-time.After(evictRetryInterval):
		}
	}
	return accepted, nil, nil
}

// blockingBudgets names the budgets the preview found allowing no
// disruption, for the error of a drain that timed out.
func (p *drainPlan) blockingBudgets() string {
	var states []string
	for _, n := range p.budgets {
		if n.blocks {
			states = append(states, n.state)
		}
	}
	if len(states) == 0 {
		return ""
	}
	return "; when previewed, " + strings.Join(states, "; ")
}

// evict asks for one eviction. It returns a reason to retry (the eviction
// was refused for now), or an error that stops the drain.
func evict(ctx context.Context, c *kube.Clients, pod DrainPod) (retry string, err error) {
	// The UID precondition evicts the pod that was previewed, never a
	// successor that took its name.
	uid := pod.uid
	ev := &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}},
	}
	err = c.Typed.PolicyV1().Evictions(pod.Namespace).Evict(ctx, ev)
	switch {
	case err == nil, apierrors.IsNotFound(err):
		return "", nil
	case apierrors.IsConflict(err):
		// The UID no longer matches: the previewed pod is gone already.
		return "", nil
	case apierrors.IsTooManyRequests(err):
		return "eviction refused: " + disruptionCause(err), nil
	case apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return "namespace is terminating; its pods are being deleted", nil
	case ctx.Err() != nil:
		return "eviction not yet accepted when the time ran out", nil
	}
	return "", fmt.Errorf("evict pod %s: %w", pod, err)
}

// disruptionCause is the API's reason for a refused eviction; it names the
// PodDisruptionBudget ("The disruption budget web needs 1 healthy pods and
// has 1 currently").
func disruptionCause(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if d := status.Status().Details; d != nil {
			for _, cause := range d.Causes {
				if cause.Type == policyv1.DisruptionBudgetCause {
					return cause.Message
				}
			}
		}
	}
	return err.Error()
}

// waitGone waits until every pod is deleted (or replaced by a new pod of the
// same name) and returns those still there when ctx ends.
func waitGone(ctx context.Context, c *kube.Clients, pods []DrainPod) []DrainPod {
	pending := pods
	for {
		var next []DrainPod
		for _, pod := range pending {
			p, err := c.Typed.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) || (err == nil && p.UID != pod.uid) {
				continue
			}
			pod.Reason = "evicted, still terminating"
			if err == nil && p.DeletionTimestamp == nil {
				pod.Reason = "evicted, not yet marked for deletion"
			}
			next = append(next, pod)
		}
		if pending = next; len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return pending
		case <-time.After(goneCheckInterval):
		}
	}
}

// unplanned lists pods that reached the node after the preview, other than
// the ones a drain ignores. A failed list only loses the note.
func unplanned(ctx context.Context, c *kube.Clients, node string, p *drainPlan) []DrainPod {
	pods, err := podsOn(ctx, c, node)
	if err != nil {
		return nil
	}
	var out []DrainPod
	for i := range pods {
		pod := &pods[i]
		dp := DrainPod{Namespace: pod.Namespace, Name: pod.Name, Owner: ownerOf(pod), uid: pod.UID}
		if ignoreReason(pod) != "" || containsPod(p.evict, dp) || containsPod(p.ignored, dp) {
			continue
		}
		out = append(out, dp)
	}
	return out
}

func containsPod(pods []DrainPod, pod DrainPod) bool {
	return slices.ContainsFunc(pods, func(p DrainPod) bool { return p.uid == pod.uid && p.String() == pod.String() })
}

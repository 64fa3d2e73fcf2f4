package kubetools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// RolloutProgress is a workload's rollout state, judged the way
// `kubectl rollout status` judges it.
type RolloutProgress struct {
	Desired   int32 `json:"desired"`
	Updated   int32 `json:"updated"`
	Ready     int32 `json:"ready"`
	Available int32 `json:"available"`
	// Done means the controller has seen the latest spec and every desired
	// replica runs the current template.
	Done bool `json:"done"`
	// DeadlineExceeded is a Deployment's ProgressDeadlineExceeded: the
	// controller gave up waiting, and so do we.
	DeadlineExceeded bool   `json:"progressDeadlineExceeded,omitempty"`
	Message          string `json:"message"`
}

// deploymentProgress follows kubectl's DeploymentStatusViewer.
func deploymentProgress(d *appsv1.Deployment) RolloutProgress {
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	s := d.Status
	p := RolloutProgress{Desired: desired, Updated: s.UpdatedReplicas, Ready: s.ReadyReplicas, Available: s.AvailableReplicas}
	if d.Generation > s.ObservedGeneration {
		p.Message = "waiting for the deployment controller to observe the new spec"
		return p
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			p.DeadlineExceeded = true
			p.Message = fmt.Sprintf("progress deadline exceeded: %s", c.Message)
			return p
		}
	}
	switch {
	case s.UpdatedReplicas < desired:
		p.Message = fmt.Sprintf("%d of %d new replicas updated", s.UpdatedReplicas, desired)
	case s.Replicas > s.UpdatedReplicas:
		p.Message = fmt.Sprintf("%d old replicas pending termination", s.Replicas-s.UpdatedReplicas)
	case s.AvailableReplicas < s.UpdatedReplicas:
		p.Message = fmt.Sprintf("%d of %d updated replicas available", s.AvailableReplicas, s.UpdatedReplicas)
	default:
		p.Done = true
		p.Message = "successfully rolled out"
	}
	return p
}

// statefulSetProgress follows kubectl's StatefulSetStatusViewer.
func statefulSetProgress(st *appsv1.StatefulSet) RolloutProgress {
	desired := int32(1)
	if st.Spec.Replicas != nil {
		desired = *st.Spec.Replicas
	}
	s := st.Status
	p := RolloutProgress{Desired: desired, Updated: s.UpdatedReplicas, Ready: s.ReadyReplicas, Available: s.AvailableReplicas}
	switch {
	case s.ObservedGeneration == 0 || st.Generation > s.ObservedGeneration:
		p.Message = "waiting for the statefulset controller to observe the new spec"
	case s.ReadyReplicas < desired:
		p.Message = fmt.Sprintf("%d of %d pods ready", s.ReadyReplicas, desired)
	case st.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType:
		// OnDelete: pods only move to a new template when deleted, so
		// "all ready" is as done as it gets.
		p.Done = true
		p.Message = fmt.Sprintf("%d pods ready (update strategy %s: pods change only when deleted)", s.ReadyReplicas, st.Spec.UpdateStrategy.Type)
	case st.Spec.UpdateStrategy.RollingUpdate != nil && st.Spec.UpdateStrategy.RollingUpdate.Partition != nil &&
		*st.Spec.UpdateStrategy.RollingUpdate.Partition > 0:
		part := *st.Spec.UpdateStrategy.RollingUpdate.Partition
		if s.UpdatedReplicas < desired-part {
			p.Message = fmt.Sprintf("partitioned roll out: %d of %d new pods updated", s.UpdatedReplicas, desired-part)
			return p
		}
		p.Done = true
		p.Message = fmt.Sprintf("partitioned roll out complete: %d new pods updated", s.UpdatedReplicas)
	case s.UpdateRevision != s.CurrentRevision:
		p.Message = fmt.Sprintf("rolling update in progress: %d pods at revision %s", s.UpdatedReplicas, s.UpdateRevision)
	default:
		p.Done = true
		p.Message = fmt.Sprintf("rolling update complete: %d pods at revision %s", s.CurrentReplicas, s.CurrentRevision)
	}
	return p
}

// daemonSetProgress follows kubectl's DaemonSetStatusViewer.
func daemonSetProgress(ds *appsv1.DaemonSet) RolloutProgress {
	s := ds.Status
	p := RolloutProgress{Desired: s.DesiredNumberScheduled, Updated: s.UpdatedNumberScheduled, Ready: s.NumberReady, Available: s.NumberAvailable}
	switch {
	case ds.Generation > s.ObservedGeneration:
		p.Message = "waiting for the daemonset controller to observe the new spec"
	case s.UpdatedNumberScheduled < s.DesiredNumberScheduled:
		p.Message = fmt.Sprintf("%d of %d new pods updated", s.UpdatedNumberScheduled, s.DesiredNumberScheduled)
	case s.NumberAvailable < s.DesiredNumberScheduled:
		p.Message = fmt.Sprintf("%d of %d updated pods available", s.NumberAvailable, s.DesiredNumberScheduled)
	default:
		p.Done = true
		p.Message = "successfully rolled out"
	}
	return p
}

// RolloutOutcome is what a tool that waited for a workload reports.
type RolloutOutcome struct {
	Waited    bool `json:"waited"`
	Converged bool `json:"converged"`
	// Elapsed is how long the wait took ("12s").
	Elapsed  string          `json:"elapsed,omitempty"`
	Progress RolloutProgress `json:"progress"`
	// NotReadyPods are a few of the workload's pods that are not ready,
	// with their reason, when it did not converge.
	NotReadyPods []Row `json:"notReadyPods,omitempty"`
}

// Waits re-read the workload quickly at first (kwok and small clusters
// converge within a second) and back off to pollInterval for real rollouts
// that take tens of seconds, so a short wait is not rounded up to a tick.
const (
	firstPoll    = 50 * time.Millisecond
	pollInterval = 500 * time.Millisecond
)

// maxNotReadyPods bounds the pods listed when a wait did not converge.
const maxNotReadyPods = 5

// waitRollout re-reads the workload until done(progress) holds, the timeout
// passes, or a Deployment reports ProgressDeadlineExceeded. Running out of
// time is not an error: the outcome says it did not converge and why.
func waitRollout(ctx context.Context, c *kube.Clients, ref workloadRef, timeout time.Duration, done func(RolloutProgress) bool) (*RolloutOutcome, error) {
	start := time.Now()
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := firstPoll
	out := &RolloutOutcome{Waited: true}
loop:
	for {
		w, err := getWorkload(waitCtx, c, ref)
		switch {
		case err != nil && permanent(err):
			return out, err
		case err == nil:
			out.Progress = w.progress()
			if done(out.Progress) {
				out.Converged = true
				out.Elapsed = time.Since(start).Round(time.Second).String()
				return out, nil
			}
			if out.Progress.DeadlineExceeded {
				break loop
			}
		}
		select {
		case <-waitCtx.Done():
			break loop
		case <-time.After(delay):
		}
		delay = min(delay*2, pollInterval)
	}
	out.Elapsed = time.Since(start).Round(time.Second).String()
	if err := ctx.Err(); err != nil {
		// The caller gave up (interrupt), not our timeout.
		return out, fmt.Errorf("waiting for %s: %w", ref.describe(), err)
	}
	diagCtx, cancelDiag := context.WithTimeout(ctx, 5*time.Second)
	defer cancelDiag()
	out.NotReadyPods = notReadyPods(diagCtx, c, ref)
	return out, nil
}

// permanent reports whether a read error will not go away by polling again
// (the workload is gone, or we may not read it). Anything else (a network
// blip, the client's rate limiter near the deadline) is retried until the
// wait ends.
func permanent(err error) bool {
	return errors.Is(err, tools.ErrNotFound) || apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)
}

// rolledOut is the convergence test for restarts and rollbacks.
func rolledOut(p RolloutProgress) bool { return p.Done }

// notReadyPods returns a few not-ready pods of the workload with their
// kubectl-style status (CrashLoopBackOff, Pending, ...). Errors are dropped:
// this only explains a wait that already ended.
func notReadyPods(ctx context.Context, c *kube.Clients, ref workloadRef) []Row {
	w, err := getWorkload(ctx, c, ref)
	if err != nil {
		return nil
	}
	pods, err := w.pods(ctx, c)
	if err != nil {
		return nil
	}
	var rows []Row
	for i := range pods {
		if !podReady(&pods[i]) {
			r := podRow(&pods[i])
			r.Namespace = "" // the workload's
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b Row) int { return cmp.Compare(a.Name, b.Name) })
	return rows[:min(len(rows), maxNotReadyPods)]
}

// podReady reports the pod's Ready condition.
func podReady(p *corev1.Pod) bool { return podCondition(p, corev1.PodReady) }

package kubetools

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// podRow is a pod's `kubectl get pods` line.
func podRow(p *corev1.Pod) Row {
	r := baseRow(&p.ObjectMeta)
	s := podSummary(p)
	r.Ready, r.Status, r.Node = ratio(s.ready, s.total), s.reason, p.Spec.NodeName
	r.Restarts = itoa(s.restarts)
	if s.restarts > 0 && !s.lastRestart.IsZero() {
		r.Restarts += fmt.Sprintf(" (%s ago)", duration.HumanDuration(time.Since(s.lastRestart)))
	}
	return r
}

type podState struct {
	reason       string
	ready, total int
	restarts     int
	lastRestart  time.Time
}

// podSummary computes the STATUS, READY and RESTARTS columns exactly as
// kubectl's pod printer does, so "CrashLoopBackOff", "Init:0/1",
// "ErrImagePull" or "Terminating" read the same as in a terminal.
func podSummary(pod *corev1.Pod) podState {
	st := podState{reason: string(pod.Status.Phase), total: len(pod.Spec.Containers)}
	if pod.Status.Reason != "" {
		st.reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			st.reason = corev1.PodReasonSchedulingGated
		}
	}
	// Sidecars (restartable init containers) count as containers.
	sidecar := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecar[c.Name] = true
			st.total++
		}
	}
	// While init containers run, every restart counts; once they are done,
	// only sidecar and app container restarts do (as in kubectl).
	var all, sidecars restartTally
	for _, cs := range pod.Status.InitContainerStatuses {
		all.add(cs)
		if sidecar[cs.Name] {
			sidecars.add(cs)
		}
	}
	st.restarts, st.lastRestart = all.n, all.last

	initializing := false
	for i, cs := range pod.Status.InitContainerStatuses {
		switch t, w := cs.State.Terminated, cs.State.Waiting; {
		case t != nil && t.ExitCode == 0:
			continue
		case sidecar[cs.Name] && cs.Started != nil && *cs.Started:
			if cs.Ready {
				st.ready++
			}
			continue
		case t != nil:
			switch {
			case t.Reason != "":
				st.reason = "Init:" + t.Reason
			case t.Signal != 0:
				st.reason = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				st.reason = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
		case w != nil && w.Reason != "" && w.Reason != "PodInitializing":
			st.reason = "Init:" + w.Reason
		default:
			st.reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}

	if !initializing || podCondition(pod, corev1.PodInitialized) {
		hasRunning := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := pod.Status.ContainerStatuses[i]
			sidecars.add(cs)
			switch t, w := cs.State.Terminated, cs.State.Waiting; {
			case w != nil && w.Reason != "":
				st.reason = w.Reason
			case t != nil && t.Reason != "":
				st.reason = t.Reason
			case t != nil && t.Signal != 0:
				st.reason = fmt.Sprintf("Signal:%d", t.Signal)
			case t != nil:
				st.reason = fmt.Sprintf("ExitCode:%d", t.ExitCode)
			case cs.Ready && cs.State.Running != nil:
				hasRunning = true
				st.ready++
			}
		}
		st.restarts, st.lastRestart = sidecars.n, sidecars.last
		if st.reason == "Completed" && hasRunning {
			st.reason = "NotReady"
			if podCondition(pod, corev1.PodReady) {
				st.reason = "Running"
			}
		}
	}

	terminal := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	switch {
	case pod.DeletionTimestamp != nil && pod.Status.Reason == "NodeLost":
		st.reason = "Unknown"
	case pod.DeletionTimestamp != nil && !terminal:
		st.reason = "Terminating"
	}
	return st
}

type restartTally struct {
	n    int
	last time.Time
}

func (r *restartTally) add(cs corev1.ContainerStatus) {
	r.n += int(cs.RestartCount)
	if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(r.last) {
		r.last = t.FinishedAt.Time
	}
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

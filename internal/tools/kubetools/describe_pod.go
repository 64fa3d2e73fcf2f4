package kubetools

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodDetail is what `kubectl describe pod` says about why a pod is (not)
// running.
type PodDetail struct {
	Status   string `json:"status"`
	Ready    string `json:"ready"`
	Restarts string `json:"restarts"`
	Node     string `json:"node,omitempty"`
	IP       string `json:"ip,omitempty"`
	QOSClass string `json:"qosClass,omitempty"`
	// Message is the pod-level reason, e.g. for an eviction.
	Message    string         `json:"message,omitempty"`
	Conditions []Condition    `json:"conditions,omitempty"`
	Containers []PodContainer `json:"containers"`
	Volumes    []string       `json:"volumes,omitempty"`
}

// PodContainer is a container's spec and its current and last state.
type PodContainer struct {
	ContainerInfo
	Ready        bool            `json:"ready"`
	RestartCount int32           `json:"restartCount"`
	State        *ContainerState `json:"state,omitempty"`
	LastState    *ContainerState `json:"lastState,omitempty"`
}

// ContainerState is one of running, waiting or terminated, with the reason
// (CrashLoopBackOff, OOMKilled, ...) and exit code that explain it.
type ContainerState struct {
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
	ExitCode *int32 `json:"exitCode,omitempty"`
	Signal   int32  `json:"signal,omitempty"`
	// Since is how long ago the state began (or, for terminated, ended).
	Since string `json:"since,omitempty"`
}

// Condition is a status condition of any kind.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Since   string `json:"since,omitempty"`
}

func condition(typ, status, reason, msg string, since metav1.Time) Condition {
	c := Condition{Type: typ, Status: status, Reason: reason, Message: truncate(msg, maxMessageLen)}
	if !since.IsZero() {
		c.Since = age(since)
	}
	return c
}

func describePod(p *corev1.Pod) *PodDetail {
	row := podRow(p)
	d := &PodDetail{
		Status: row.Status, Ready: row.Ready, Restarts: row.Restarts, Node: p.Spec.NodeName,
		IP: p.Status.PodIP, QOSClass: string(p.Status.QOSClass), Volumes: volumeStrings(p.Spec.Volumes),
	}
	if p.Status.Message != "" {
		d.Message = truncate(p.Status.Reason+": "+p.Status.Message, maxMessageLen)
	}
	for _, c := range p.Status.Conditions {
		d.Conditions = append(d.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
	}
	statuses := map[string]corev1.ContainerStatus{}
	for _, s := range p.Status.InitContainerStatuses {
		statuses[s.Name] = s
	}
	for _, s := range p.Status.ContainerStatuses {
		statuses[s.Name] = s
	}
	for _, ci := range containerInfos(&p.Spec) {
		pc := PodContainer{ContainerInfo: ci}
		if s, ok := statuses[ci.Name]; ok {
			pc.Ready, pc.RestartCount = s.Ready, s.RestartCount
			pc.State, pc.LastState = containerState(s.State), containerState(s.LastTerminationState)
		}
		d.Containers = append(d.Containers, pc)
	}
	return d
}

func containerState(s corev1.ContainerState) *ContainerState {
	switch {
	case s.Running != nil:
		return &ContainerState{State: "running", Since: age(s.Running.StartedAt)}
	case s.Waiting != nil:
		return &ContainerState{State: "waiting", Reason: s.Waiting.Reason, Message: truncate(s.Waiting.Message, maxMessageLen)}
	case s.Terminated != nil:
		t := s.Terminated
		code := t.ExitCode
		cs := &ContainerState{State: "terminated", Reason: t.Reason, Message: truncate(t.Message, maxMessageLen), ExitCode: &code, Signal: t.Signal}
		if !t.FinishedAt.IsZero() {
			cs.Since = age(t.FinishedAt)
		}
		return cs
	}
	return nil
}

// ownerStrings renders owner references as "kind/name".
func ownerStrings(refs []metav1.OwnerReference) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = fmt.Sprintf("%s/%s", r.Kind, r.Name)
	}
	return out
}

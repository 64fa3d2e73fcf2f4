package diagnose

import (
	"time"
)

// The report types of explain: what it found about one workload or pod.

// ExplainReport is everything about why one workload or pod fails.
type ExplainReport struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Target     ObjectRef   `json:"target"`
	Owners     []ObjectRef `json:"owners,omitempty"`
	// Healthy is true when no finding concerns the target.
	Healthy bool `json:"healthy"`
	// Status summarises the target's state, one fact per line.
	Status []string `json:"status"`
	// Pods are the target's pods (the failing ones first), or the pod itself.
	Pods []PodInfo `json:"pods,omitempty"`
	// Config is every Secret and ConfigMap the pod template references.
	Config []ConfigRef `json:"config,omitempty"`
	// Rollout lists a Deployment's revisions (its ReplicaSets), newest first.
	Rollout []Revision `json:"rollout,omitempty"`
	// Events of the target, its owners and its pods, newest first.
	Events []Event `json:"events,omitempty"`
	// Logs of the failing containers (the previous run after a crash).
	Logs     []LogExcerpt `json:"logs,omitempty"`
	Findings []Finding    `json:"findings"`
	// Cause and Fixes are those of the most severe finding.
	Cause string `json:"cause"`
	Fixes []Fix  `json:"fixes,omitempty"`
}

// ExplainList explains every failing pod of a namespace.
type ExplainList struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Namespace  string          `json:"namespace"`
	Healthy    bool            `json:"healthy"`
	Items      []ExplainReport `json:"items"`
	// Omitted counts failing pods left out (more than 20).
	Omitted int `json:"omitted,omitempty"`
}

// PodInfo is one pod, as `kubectl get pod` and describe would show it.
type PodInfo struct {
	Name       string          `json:"name"`
	Phase      string          `json:"phase"`
	Ready      string          `json:"ready"`
	Restarts   int32           `json:"restarts"`
	Node       string          `json:"node,omitempty"`
	Age        string          `json:"age"`
	Containers []ContainerInfo `json:"containers"`
}

// ContainerInfo is one container's state.
type ContainerInfo struct {
	Name      string `json:"name"`
	Init      bool   `json:"init,omitempty"`
	Image     string `json:"image"`
	Ready     bool   `json:"ready"`
	Restarts  int32  `json:"restarts"`
	State     string `json:"state"`
	LastState string `json:"lastState,omitempty"`
}

// Revision is one Deployment revision.
type Revision struct {
	Revision   int       `json:"revision"`
	ReplicaSet string    `json:"replicaSet"`
	Images     []string  `json:"images"`
	Replicas   int32     `json:"replicas"`
	Ready      int32     `json:"ready"`
	Created    time.Time `json:"created"`
	Current    bool      `json:"current,omitempty"`
}

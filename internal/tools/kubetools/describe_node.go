package kubetools

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// NodeDetail is a node's health and room.
type NodeDetail struct {
	Status         string      `json:"status"`
	Roles          string      `json:"roles"`
	Version        string      `json:"version"`
	InternalIP     string      `json:"internalIP,omitempty"`
	Conditions     []Condition `json:"conditions"`
	Taints         []string    `json:"taints,omitempty"`
	Capacity       string      `json:"capacity"`
	Allocatable    string      `json:"allocatable"`
	Unschedulable  bool        `json:"unschedulable,omitempty"`
	OSImage        string      `json:"osImage,omitempty"`
	ContainerStack string      `json:"containerRuntime,omitempty"`
}

func describeNode(n *corev1.Node) *NodeDetail {
	row := nodeRow(n)
	d := &NodeDetail{
		Status: row.Status, Roles: row.Roles, Version: row.Version, Conditions: []Condition{},
		Capacity: resourceString(n.Status.Capacity), Allocatable: resourceString(n.Status.Allocatable),
		Unschedulable: n.Spec.Unschedulable, OSImage: n.Status.NodeInfo.OSImage, ContainerStack: n.Status.NodeInfo.ContainerRuntimeVersion,
	}
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			d.InternalIP = a.Address
		}
	}
	for _, c := range n.Status.Conditions {
		d.Conditions = append(d.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
	}
	for _, t := range n.Spec.Taints {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		d.Taints = append(d.Taints, strings.Join([]string{s, string(t.Effect)}, ":"))
	}
	return d
}

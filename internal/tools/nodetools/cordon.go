package nodetools

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// NodeArgs are cordon_node's and uncordon_node's arguments.
type NodeArgs struct {
	Name string `json:"name" description:"Node name"`
}

// Validate implements tools.Validator.
func (a NodeArgs) Validate() error { return checkNodeName(a.Name) }

// SchedulingResult reports a cordon or an uncordon.
type SchedulingResult struct {
	Node          string `json:"node"`
	Unschedulable bool   `json:"unschedulable"`
	Message       string `json:"message"`
}

// CordonNode declares cordon_node.
func CordonNode(c *kube.Clients) tools.Tool {
	return tools.Define(NameCordonNode,
		"Mark a node unschedulable (cordon); running pods stay.",
		tools.Write,
		func(ctx context.Context, a NodeArgs) (tools.Action, error) {
			return prepareScheduling(ctx, c, a.Name, true)
		})
}

// UncordonNode declares uncordon_node.
func UncordonNode(c *kube.Clients) tools.Tool {
	return tools.Define(NameUncordonNode,
		"Mark a node schedulable again (uncordon).",
		tools.Write,
		func(ctx context.Context, a NodeArgs) (tools.Action, error) {
			return prepareScheduling(ctx, c, a.Name, false)
		})
}

func prepareScheduling(ctx context.Context, c *kube.Clients, name string, unschedulable bool) (tools.Action, error) {
	node, err := getNode(ctx, c, name)
	if err != nil {
		return nil, err
	}
	ch := schedulingChange{node: node, unschedulable: unschedulable}
	plan := tools.Preview{Summary: ch.summary(), NoChange: !ch.needed(), Targets: []tools.Target{nodeTarget(name)}}
	if unschedulable && ch.needed() {
		plan.Diff = "Pods already running on the node keep running; drain_node evicts them."
	}
	apply := func(ctx context.Context) (any, error) {
		if err := ch.apply(ctx, c); err != nil {
			return nil, err
		}
		return &SchedulingResult{Node: name, Unschedulable: unschedulable, Message: "node/" + name + " is now " + schedulingState(unschedulable)}, nil
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// schedulingChange sets one node's spec.unschedulable, bound to the
// resourceVersion of the node it was planned against.
type schedulingChange struct {
	node          *corev1.Node
	unschedulable bool
}

func (s schedulingChange) needed() bool { return s.node.Spec.Unschedulable != s.unschedulable }

func (s schedulingChange) summary() string {
	ref := "node/" + s.node.Name
	if !s.needed() {
		return fmt.Sprintf("%s is already %s", ref, schedulingState(s.unschedulable))
	}
	return fmt.Sprintf("%s: %s → %s", ref, schedulingState(!s.unschedulable), schedulingState(s.unschedulable))
}

// apply writes the change, bound to the node as previewed but not to its
// status: a node's status moves every few seconds (heartbeats, conditions),
// which is no change of what the preview showed (tools.WriteAsPreviewed).
func (s schedulingChange) apply(ctx context.Context, c *kube.Clients) error {
	nodes := c.Typed.CoreV1().Nodes()
	desc := "node/" + s.node.Name
	previewed := tools.PreviewedAPIObject(s.node, desc, nodes, func(n *corev1.Node) any { return n.Spec.Unschedulable })
	return tools.WriteAsPreviewed(ctx, previewed, "mark "+desc+" "+schedulingState(s.unschedulable), func(ctx context.Context, n *corev1.Node) error {
		n.Spec.Unschedulable = s.unschedulable
		_, err := nodes.Update(ctx, n, metav1.UpdateOptions{})
		return err
	})
}

func schedulingState(unschedulable bool) string {
	if unschedulable {
		return "unschedulable (cordoned)"
	}
	return "schedulable"
}

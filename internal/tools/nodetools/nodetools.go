// Package nodetools holds the node maintenance tools an operator runs before
// working on a machine: cordon, uncordon and drain.
//
// Nodes are cluster-scoped, so every change here names its node as a
// cluster-scoped target and the gate asks for the privileged opt-in. Each
// write is bound to the node's resourceVersion as previewed, and a drain
// evicts exactly the pods its preview listed, through the Eviction API so
// that PodDisruptionBudgets are honoured.
package nodetools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// Tool names, part of the contract with the planner and the model.
const (
	NameCordonNode   = "cordon_node"
	NameUncordonNode = "uncordon_node"
	NameDrainNode    = "drain_node"
)

// New returns the node tools, bound to the clients of one context.
func New(c *kube.Clients) []tools.Tool {
	return []tools.Tool{CordonNode(c), UncordonNode(c), DrainNode(c)}
}

// checkNodeName rejects what cannot be a node name. Node names are matched
// exactly: guessing which machine to take out of service is not safe.
func checkNodeName(name string) error {
	if name == "" {
		return fmt.Errorf("name is required")
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("name %q is not a valid node name: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// nodeTarget is the preview target of a change to node name.
func nodeTarget(name string) tools.Target { return tools.Target{Kind: "Node", Name: name} }

// getNode reads a node; an unknown name lists the nodes that exist.
func getNode(ctx context.Context, c *kube.Clients, name string) (*corev1.Node, error) {
	n, err := c.Typed.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w: node %q does not exist (nodes: %s)", tools.ErrNotFound, name, nodeNames(ctx, c))
	}
	if err != nil {
		return nil, fmt.Errorf("read node %s: %w", name, err)
	}
	return n, nil
}

// nodeNames lists the cluster's nodes for an error message.
func nodeNames(ctx context.Context, c *kube.Clients) string {
	l, err := c.Typed.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 50})
	if err != nil {
		return "could not list them: " + err.Error()
	}
	names := make([]string, 0, len(l.Items))
	for _, n := range l.Items {
		names = append(names, n.Name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

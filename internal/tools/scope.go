package tools

import (
	"fmt"
	"slices"
	"strings"
)

// Target is one object an action creates, changes or deletes.
type Target struct {
	// Kind is the API kind: "Deployment", "Node".
	Kind string `json:"kind"`
	// Namespace is empty for cluster-scoped objects.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (t Target) String() string {
	ref := strings.ToLower(t.Kind) + "/" + t.Name
	if t.Namespace == "" {
		return ref + " (cluster-scoped)"
	}
	return ref + " in " + t.Namespace
}

// Scope is what a request is allowed to change on --yes: objects in one
// namespace (-n, else the kubeconfig's), plus the namespace the user asked
// to create with --create-namespace. Anything else must be approved on a
// terminal, or needs the flag the refusal names.
type Scope struct {
	Namespace string `json:"namespace"`
	// CreateNamespace is the namespace the user named with
	// --create-namespace; creating it is an ordinary write.
	CreateNamespace string `json:"createNamespace,omitempty"`
}

// isCreatedNamespace reports whether t is the namespace the user asked to create.
func (s Scope) isCreatedNamespace(t Target) bool {
	return s.CreateNamespace != "" && t.Kind == "Namespace" && t.Namespace == "" && t.Name == s.CreateNamespace
}

// outside returns the targets --yes does not cover. A mutation that names
// no target is outside every scope (fail closed): the pseudo-target says so.
func (s Scope) outside(targets []Target) []Target {
	if len(targets) == 0 {
		return []Target{{Kind: "unknown", Name: "(the action did not say what it changes)"}}
	}
	var out []Target
	for _, t := range targets {
		if s.isCreatedNamespace(t) {
			continue
		}
		if t.Namespace == "" || t.Namespace != s.Namespace {
			out = append(out, t)
		}
	}
	return out
}

// clusterScopedReasons is the privilege every cluster-scoped target carries:
// nodes, namespaces, cluster roles and the like affect every namespace.
func (s Scope) clusterScopedReasons(targets []Target) []string {
	var out []string
	for _, t := range targets {
		if t.Namespace == "" && !s.isCreatedNamespace(t) {
			out = append(out, fmt.Sprintf("changes the cluster-scoped %s/%s", strings.ToLower(t.Kind), t.Name))
		}
	}
	return out
}

// namespacesOf lists the distinct namespaces of targets ("" excluded), sorted.
func namespacesOf(targets []Target) []string {
	var out []string
	for _, t := range targets {
		if t.Namespace != "" && !slices.Contains(out, t.Namespace) {
			out = append(out, t.Namespace)
		}
	}
	slices.Sort(out)
	return out
}

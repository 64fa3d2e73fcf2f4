// Package agenttest has test doubles for the agent: an in-memory cluster
// exposing tools with the same names and arguments as the real kube tools,
// and an OpenAI-compatible fake model server (see FakeModel).
package agenttest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/opsagent/opsagent/internal/tools"
)

// MaxReplicas is the bound the fake scale tool enforces.
const MaxReplicas = 1000

// Cluster is an in-memory set of deployments in one namespace.
type Cluster struct {
	Namespace string

	mu          sync.Mutex
	deployments map[string]int
	logs        map[string]string
	annotations map[string]string
	mutations   []string
}

// NewCluster returns a cluster with the given deployments (name → replicas).
func NewCluster(namespace string, deployments map[string]int) *Cluster {
	return &Cluster{
		Namespace:   namespace,
		deployments: maps.Clone(deployments),
		logs:        map[string]string{},
		annotations: map[string]string{},
	}
}

// SetLogs sets what pod_logs returns for a deployment's pods.
func (c *Cluster) SetLogs(deployment, logs string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs[deployment] = logs
}

// SetAnnotation sets an annotation get_resource returns for a deployment.
func (c *Cluster) SetAnnotation(deployment, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.annotations[deployment] = value
}

// Replicas returns a deployment's replicas.
func (c *Cluster) Replicas(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deployments[name]
}

// Mutations lists the changes made, e.g. "scale todo-chatbot-backend 3".
func (c *Cluster) Mutations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.mutations)
}

// resolve finds a deployment by exact name or unique substring, the way the
// real tools resolve names as people say them.
func (c *Cluster) resolve(ns, name string) (string, error) {
	if ns != "" && ns != c.Namespace {
		return "", fmt.Errorf("deployment %q in namespace %s: %w", name, ns, tools.ErrNotFound)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.deployments[name]; ok {
		return name, nil
	}
	var found []string
	for n := range c.deployments {
		if strings.Contains(n, name) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("deployment %q in namespace %s: %w", name, c.Namespace, tools.ErrNotFound)
	case 1:
		return found[0], nil
	}
	slices.Sort(found)
	return "", fmt.Errorf("%q matches %s: %w", name, strings.Join(found, ", "), tools.ErrAmbiguous)
}

func (c *Cluster) mutate(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mutations = append(c.mutations, fmt.Sprintf(format, args...))
}

// Argument types: the same JSON as the real kube tools.

type ListArgs struct {
	Kind          string `json:"kind" description:"resource kind, e.g. pods, deployments"`
	Namespace     string `json:"namespace,omitempty"`
	AllNamespaces bool   `json:"all_namespaces,omitempty"`
	Selector      string `json:"selector,omitempty"`
	Limit         int    `json:"limit,omitempty"`
}

type GetArgs struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type LogsArgs struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Container string `json:"container,omitempty"`
	Tail      int    `json:"tail,omitempty"`
	Previous  bool   `json:"previous,omitempty"`
}

type EventsArgs struct {
	Namespace    string `json:"namespace,omitempty"`
	Kind         string `json:"kind,omitempty"`
	Name         string `json:"name,omitempty"`
	WarningsOnly bool   `json:"warnings_only,omitempty"`
	Limit        int    `json:"limit,omitempty"`
}

type ScaleArgs struct {
	Kind           string `json:"kind,omitempty" description:"deployment (default) or statefulset"`
	Name           string `json:"name" description:"workload name as people say it"`
	Namespace      string `json:"namespace,omitempty"`
	Replicas       int    `json:"replicas"`
	Wait           *bool  `json:"wait,omitempty"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty"`
}

func (a ScaleArgs) Validate() error {
	if a.Replicas < 0 || a.Replicas > MaxReplicas {
		return fmt.Errorf("replicas must be between 0 and %d, got %d", MaxReplicas, a.Replicas)
	}
	if a.Name == "" {
		return errors.New("name must not be empty")
	}
	return nil
}

type WorkloadArgs struct {
	Kind           string `json:"kind,omitempty"`
	Name           string `json:"name"`
	Namespace      string `json:"namespace,omitempty"`
	Wait           *bool  `json:"wait,omitempty"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty"`
}

type RolloutArgs struct {
	Kind           string `json:"kind,omitempty"`
	Name           string `json:"name"`
	Namespace      string `json:"namespace,omitempty"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty"`
}

type RollbackArgs struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Revision  int    `json:"revision,omitempty"`
}

type PodArgs struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// ScaleResult is what the fake scale tool returns.
type ScaleResult struct {
	Deployment    string `json:"deployment"`
	Replicas      int    `json:"replicas"`
	ReadyReplicas int    `json:"readyReplicas"`
}

// Tools returns the kube tool set backed by c.
func (c *Cluster) Tools() []tools.Tool {
	return []tools.Tool{
		tools.Define("list_resources", "List objects of a kind.", tools.Read,
			func(ctx context.Context, a ListArgs) (tools.Action, error) {
				return tools.ReadResult(func(context.Context) (any, error) {
					c.mu.Lock()
					defer c.mu.Unlock()
					names := slices.Sorted(maps.Keys(c.deployments))
					return map[string]any{"kind": a.Kind, "namespace": c.Namespace, "items": names}, nil
				}), nil
			}),
		tools.Define("get_resource", "Show one object.", tools.Read,
			func(ctx context.Context, a GetArgs) (tools.Action, error) {
				name, err := c.resolve(a.Namespace, a.Name)
				if err != nil {
					return nil, err
				}
				return tools.ReadResult(func(context.Context) (any, error) {
					c.mu.Lock()
					defer c.mu.Unlock()
					return map[string]any{"name": name, "replicas": c.deployments[name],
						"annotations": map[string]string{"note": c.annotations[name]}}, nil
				}), nil
			}),
		tools.Define("pod_logs", "Logs of a pod.", tools.Read,
			func(ctx context.Context, a LogsArgs) (tools.Action, error) {
				name, err := c.resolve(a.Namespace, a.Name)
				if err != nil {
					return nil, err
				}
				return tools.ReadResult(func(context.Context) (any, error) {
					c.mu.Lock()
					defer c.mu.Unlock()
					return map[string]any{"pod": name + "-abc12", "logs": c.logs[name]}, nil
				}), nil
			}),
		tools.Define("list_events", "Recent events.", tools.Read,
			func(ctx context.Context, a EventsArgs) (tools.Action, error) {
				return tools.ReadResult(func(context.Context) (any, error) {
					return map[string]any{"events": []string{}}, nil
				}), nil
			}),
		tools.Define("scale_workload", "Set a workload's replicas and wait until they are ready.", tools.Write,
			func(ctx context.Context, a ScaleArgs) (tools.Action, error) {
				name, err := c.resolve(a.Namespace, a.Name)
				if err != nil {
					return nil, err
				}
				cur := c.Replicas(name)
				summary := fmt.Sprintf("deployment/%s in %s: replicas %d → %d", name, c.Namespace, cur, a.Replicas)
				return tools.Mutation{
					Plan: tools.Preview{Summary: summary, NoChange: cur == a.Replicas, Targets: c.target("Deployment", name)},
					Apply: func(context.Context) (any, error) {
						c.mu.Lock()
						c.deployments[name] = a.Replicas
						c.mu.Unlock()
						c.mutate("scale %s %d", name, a.Replicas)
						return ScaleResult{Deployment: name, Replicas: a.Replicas, ReadyReplicas: a.Replicas}, nil
					},
				}, nil
			}),
		tools.Define("restart_workload", "Rolling restart of a workload.", tools.Write,
			func(ctx context.Context, a WorkloadArgs) (tools.Action, error) {
				name, err := c.resolve(a.Namespace, a.Name)
				if err != nil {
					return nil, err
				}
				return tools.Mutation{
					Plan: tools.Preview{Summary: fmt.Sprintf("deployment/%s in %s: rolling restart", name, c.Namespace), Targets: c.target("Deployment", name)},
					Apply: func(context.Context) (any, error) {
						c.mutate("restart %s", name)
						return map[string]any{"restarted": name}, nil
					},
				}, nil
			}),
		tools.Define("rollout_status", "Wait for a rollout.", tools.Read,
			func(ctx context.Context, a RolloutArgs) (tools.Action, error) {
				name, err := c.resolve(a.Namespace, a.Name)
				if err != nil {
					return nil, err
				}
				return tools.ReadResult(func(context.Context) (any, error) {
					return map[string]any{"deployment": name, "complete": true}, nil
				}), nil
			}),
		tools.Define("rollback_deployment", "Roll a deployment back.", tools.Write,
			func(ctx context.Context, a RollbackArgs) (tools.Action, error) {
				name, err := c.resolve(a.Namespace, a.Name)
				if err != nil {
					return nil, err
				}
				return tools.Mutation{
					Plan: tools.Preview{Summary: fmt.Sprintf("deployment/%s in %s: roll back", name, c.Namespace), Targets: c.target("Deployment", name)},
					Apply: func(context.Context) (any, error) {
						c.mutate("rollback %s", name)
						return map[string]any{"rolledBack": name}, nil
					},
				}, nil
			}),
		tools.Define("delete_pod", "Delete one pod.", tools.Destructive,
			func(ctx context.Context, a PodArgs) (tools.Action, error) {
				return tools.Mutation{
					Plan: tools.Preview{Summary: fmt.Sprintf("pod/%s in %s: delete", a.Name, c.Namespace), Targets: c.target("Pod", a.Name)},
					Apply: func(context.Context) (any, error) {
						c.mutate("delete pod %s", a.Name)
						return map[string]any{"deleted": a.Name}, nil
					},
				}, nil
			}),
	}
}

// target is the one object a fake mutation changes, for the gate's scope.
func (c *Cluster) target(kind, name string) []tools.Target {
	return []tools.Target{{Kind: kind, Namespace: c.Namespace, Name: name}}
}

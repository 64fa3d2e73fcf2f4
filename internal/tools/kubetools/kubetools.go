// Package kubetools holds the agent's Kubernetes tools: the reads an on-call
// engineer starts with (list, get, logs, events, rollout status) and the few
// changes they make by hand (scale, restart, rollback, delete a pod).
//
// Each tool is declared once with tools.Define, so the schema the model sees,
// the strict decoding and the risk all come from one place. Every name a
// person types ("backend") goes through the resolver in resolve.go, which
// finds the object or says precisely why it cannot.
package kubetools

import (
	"context"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// Tool names. The planner and the LLM loop refer to tools by these names, so
// they are part of the contract and must not change.
const (
	NameListResources      = "list_resources"
	NameGetResource        = "get_resource"
	NamePodLogs            = "pod_logs"
	NameListEvents         = "list_events"
	NameRolloutStatus      = "rollout_status"
	NameScaleWorkload      = "scale_workload"
	NameRestartWorkload    = "restart_workload"
	NameRollbackDeployment = "rollback_deployment"
	NameDeletePod          = "delete_pod"
	NameSetImage           = "set_image"
	NameSetResources       = "set_resources"
	NameSetEnv             = "set_env"
	NameExpose             = "expose"
	NameAutoscale          = "autoscale"
	NameResizePVC          = "resize_pvc"
)

// New returns every Kubernetes tool, bound to the clients of one context.
func New(c *kube.Clients) []tools.Tool {
	return []tools.Tool{
		ListResources(c),
		GetResource(c),
		PodLogs(c),
		ListEvents(c),
		RolloutStatus(c),
		ScaleWorkload(c),
		RestartWorkload(c),
		RollbackDeployment(c),
		DeletePod(c),
		SetImage(c),
		SetResources(c),
		SetEnv(c),
		Expose(c),
		Autoscale(c),
		ResizePVC(c),
	}
}

// NamespaceFor is the namespace a call works in: the one asked for, else the
// kubeconfig's current namespace, else "default" (as kubectl does).
func NamespaceFor(c *kube.Clients, ns string) string {
	switch {
	case ns != "":
		return ns
	case c != nil && c.Namespace != "":
		return c.Namespace
	}
	return "default"
}

// noChange is a mutation whose preview says nothing needs doing to targets.
// The gate does not run it; if run anyway it changes nothing.
func noChange(summary string, targets ...tools.Target) tools.Mutation {
	return tools.Mutation{
		Plan: tools.Preview{Summary: summary, NoChange: true, Targets: targets},
		Apply: func(context.Context) (any, error) {
			return map[string]any{"changed": false, "message": summary}, nil
		},
	}
}

package kubetools

import (
	"context"
	"fmt"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"k8s.io/utils/ptr"
)

// rolloutKinds are the workloads that roll out.
var rolloutKinds = []workloadKind{kindDeployment, kindStatefulSet, kindDaemonSet}

// RolloutStatusArgs are rollout_status' arguments.
type RolloutStatusArgs struct {
	Kind           string `json:"kind,omitempty" enum:"deployment,statefulset,daemonset" description:"Optional"`
	Name           string `json:"name" description:"Workload name"`
	Namespace      string `json:"namespace,omitempty" description:"Default: current namespace"`
	Wait           *bool  `json:"wait,omitempty" description:"Default true"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" description:"Default 120"`
}

// Validate implements tools.Validator.
func (a RolloutStatusArgs) Validate() error {
	if _, err := parseWorkloadKind(a.Kind, rolloutKinds); err != nil {
		return err
	}
	if err := CheckName("name", a.Name); err != nil {
		return err
	}
	if err := CheckNamespace(a.Namespace); err != nil {
		return err
	}
	return CheckRange("timeout_seconds", a.TimeoutSeconds, 0, MaxTimeoutSeconds)
}

// RolloutStatusResult is a workload's rollout state, after waiting if asked.
type RolloutStatusResult struct {
	Workload  string `json:"workload"`
	Namespace string `json:"namespace"`
	Revision  string `json:"revision"`
	*RolloutOutcome
	Message string `json:"message"`
}

// RolloutStatus declares rollout_status.
func RolloutStatus(c *kube.Clients) tools.Tool {
	return tools.Define(NameRolloutStatus,
		"kubectl rollout status.",
		tools.Read,
		func(ctx context.Context, a RolloutStatusArgs) (tools.Action, error) {
			return tools.ReadResult(func(ctx context.Context) (any, error) { return rolloutStatus(ctx, c, a) }), nil
		})
}

func rolloutStatus(ctx context.Context, c *kube.Clients, a RolloutStatusArgs) (*RolloutStatusResult, error) {
	kind, _ := parseWorkloadKind(a.Kind, rolloutKinds) // checked by Validate
	ns := NamespaceFor(c, a.Namespace)
	ref, err := resolveWorkload(ctx, c, ns, kind, a.Name, rolloutKinds)
	if err != nil {
		return nil, err
	}
	w, err := getWorkload(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	res := &RolloutStatusResult{Workload: ref.String(), Namespace: ns, Revision: w.revision()}
	p := w.progress()
	res.RolloutOutcome = &RolloutOutcome{Progress: p, Converged: p.Done}
	if ptr.Deref(a.Wait, true) && !p.Done && !p.DeadlineExceeded {
		if res.RolloutOutcome, err = waitRollout(ctx, c, ref, TimeoutFor(a.TimeoutSeconds), rolledOut); err != nil {
			return nil, err
		}
	} else if !res.Progress.Done {
		res.NotReadyPods = notReadyPods(ctx, c, ref)
	}
	res.Message = rolloutMessage(ref, res.RolloutOutcome, TimeoutFor(a.TimeoutSeconds).String())
	return res, nil
}

// rolloutMessage is the one-line verdict on a rollout.
func rolloutMessage(ref workloadRef, o *RolloutOutcome, timeout string) string {
	p := o.Progress
	switch {
	case o.Converged:
		return fmt.Sprintf("%s: %s (%d/%d ready)", ref.describe(), p.Message, p.Ready, p.Desired)
	case p.DeadlineExceeded:
		return fmt.Sprintf("%s is stuck: %s; the pods below show why (get_resource on one of them for details)", ref.describe(), p.Message)
	case o.Waited:
		return fmt.Sprintf("%s did not finish rolling out within %s: %s (%d/%d ready)", ref.describe(), timeout, p.Message, p.Ready, p.Desired)
	}
	return fmt.Sprintf("%s is rolling out: %s (%d/%d ready)", ref.describe(), p.Message, p.Ready, p.Desired)
}

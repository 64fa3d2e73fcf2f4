package kubetools

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// RestartWorkloadArgs are restart_workload's arguments.
type RestartWorkloadArgs struct {
	Kind           string `json:"kind,omitempty" enum:"deployment,statefulset,daemonset" description:"Optional"`
	Name           string `json:"name" description:"Workload name"`
	Namespace      string `json:"namespace,omitempty" description:"Default: current namespace"`
	Wait           *bool  `json:"wait,omitempty" description:"Default true"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" description:"Default 120"`
}

// Validate implements tools.Validator.
func (a RestartWorkloadArgs) Validate() error {
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

// RestartResult reports a rollout restart.
type RestartResult struct {
	Workload       string `json:"workload"`
	Namespace      string `json:"namespace"`
	RestartedAt    string `json:"restartedAt"`
	RevisionBefore string `json:"revisionBefore"`
	RevisionAfter  string `json:"revisionAfter,omitempty"`
	*RolloutOutcome
	Message string `json:"message"`
}

// RestartWorkload declares restart_workload.
func RestartWorkload(c *kube.Clients) tools.Tool {
	return tools.Define(NameRestartWorkload,
		"kubectl rollout restart.",
		tools.Write,
		func(ctx context.Context, a RestartWorkloadArgs) (tools.Action, error) {
			return prepareRestart(ctx, c, a)
		})
}

func prepareRestart(ctx context.Context, c *kube.Clients, a RestartWorkloadArgs) (tools.Action, error) {
	w, err := findWorkload(ctx, c, a.Kind, a.Name, a.Namespace, rolloutKinds)
	if err != nil {
		return nil, err
	}
	ref, ns := w.ref, w.ref.Namespace
	if w.deploy != nil && w.deploy.Spec.Paused {
		return nil, fmt.Errorf("%s is paused, so a restart would not roll out; resume it first (kubectl rollout resume %s -n %s)", ref.describe(), ref, ns)
	}
	before := w.revision()
	p := w.progress()
	plan := tools.Preview{
		Summary: fmt.Sprintf("%s: rollout restart (revision %s, %d/%d ready)", ref.describe(), before, p.Ready, p.Desired),
		Diff:    fmt.Sprintf("sets pod template annotation %s to the current time; the %s controller then replaces every pod", restartedAtAnnotation, ref.Kind),
		Targets: []tools.Target{ref.target()},
	}
	apply := func(ctx context.Context) (any, error) {
		at := time.Now().UTC().Format(time.RFC3339)
		err := tools.WriteAsPreviewed(ctx, w.previewed(c), "restart "+ref.describe(), func(ctx context.Context, w liveWorkload) error {
			patch, err := restartPatch(w.meta().ResourceVersion, at)
			if err != nil {
				return err
			}
			return patchWorkload(ctx, c, ref, patch)
		})
		if err != nil {
			return nil, err
		}
		res := &RestartResult{Workload: ref.String(), Namespace: ns, RestartedAt: at, RevisionBefore: before}
		res.Message = fmt.Sprintf("%s restarted; not waiting for the rollout (rollout_status follows it)", ref.describe())
		if ptr.Deref(a.Wait, true) {
			if res.RolloutOutcome, err = waitRollout(ctx, c, ref, TimeoutFor(a.TimeoutSeconds), rolledOut); err != nil {
				return res, err
			}
			res.Message = "restarted; " + rolloutMessage(ref, res.RolloutOutcome, TimeoutFor(a.TimeoutSeconds).String())
			if !res.Converged {
				return res, notConverged(ref, res.RolloutOutcome, res.Message)
			}
		}
		if w, err := getWorkload(ctx, c, ref); err == nil {
			res.RevisionAfter = w.revision()
		}
		return res, nil
	}
	return tools.Mutation{Plan: plan, Apply: apply}, nil
}

// restartPatch is kubectl's rollout restart patch plus the resourceVersion
// of the object it is computed from: a patch that names a resourceVersion is
// applied only if the object still has it, so a concurrent change fails with
// a conflict (which tools.WriteAsPreviewed sorts into status-only or real).
func restartPatch(resourceVersion, at string) ([]byte, error) {
	return json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": resourceVersion},
		"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
			"annotations": map[string]string{restartedAtAnnotation: at},
		}}},
	})
}

func patchWorkload(ctx context.Context, c *kube.Clients, ref workloadRef, patch []byte) error {
	apps, opts := c.Typed.AppsV1(), metav1.PatchOptions{}
	var err error
	switch ref.Kind {
	case kindDeployment:
		_, err = apps.Deployments(ref.Namespace).Patch(ctx, ref.Name, types.StrategicMergePatchType, patch, opts)
	case kindStatefulSet:
		_, err = apps.StatefulSets(ref.Namespace).Patch(ctx, ref.Name, types.StrategicMergePatchType, patch, opts)
	case kindDaemonSet:
		_, err = apps.DaemonSets(ref.Namespace).Patch(ctx, ref.Name, types.StrategicMergePatchType, patch, opts)
	default:
		err = fmt.Errorf("unsupported workload kind %q", ref.Kind)
	}
	return err
}

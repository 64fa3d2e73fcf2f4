package diagnose

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Deployment rules.
const (
	RuleDeploymentProgressDeadline = "DeploymentProgressDeadlineExceeded"
	RuleDeploymentUnavailable      = "DeploymentUnavailable"
)

type deploymentAnalyzer struct{}

var _ Analyzer = deploymentAnalyzer{}

func (deploymentAnalyzer) Kind() string      { return "Deployment" }
func (deploymentAnalyzer) Needs() []Resource { return needs(ResPods, ResEvents) }

func (deploymentAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.Deployments {
		d := &s.Deployments[i]
		if !s.inScope(&d.ObjectMeta) {
			continue
		}
		r.Checked++
		if f, ok := checkDeployment(s, d); ok {
			r.Findings = append(r.Findings, f)
		}
	}
	return r
}

func checkDeployment(s *Snapshot, d *appsv1.Deployment) (Finding, bool) {
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	st := d.Status
	ref := refOf("Deployment", &d.ObjectMeta)
	progressing := deploymentCondition(d, appsv1.DeploymentProgressing)
	deadline := progressing != nil && progressing.Status == corev1.ConditionFalse && progressing.Reason == "ProgressDeadlineExceeded"
	unavailable := desired - st.AvailableReplicas
	if desired == 0 || (!deadline && unavailable <= 0) {
		return Finding{}, false
	}
	pods := s.deploymentPods(d.UID)
	failing := 0
	for _, p := range pods {
		if podFailing(s, p) {
			failing++
		}
	}
	since := d.CreationTimestamp.Time
	if c := deploymentCondition(d, appsv1.DeploymentAvailable); c != nil && c.Status != corev1.ConditionTrue {
		since = c.LastTransitionTime.Time
	} else if progressing != nil {
		since = progressing.LastUpdateTime.Time
	}
	if !deadline && failing == 0 && s.Now.Sub(since) < startupGrace {
		return Finding{}, false // a rollout in progress
	}
	f := Finding{Object: ref, Owners: s.owners(&d.ObjectMeta), Severity: Warning, Rule: RuleDeploymentUnavailable}
	if st.AvailableReplicas == 0 || deadline {
		f.Severity = Critical
	}
	f.Evidence.Status = []string{fmt.Sprintf("replicas: %d desired, %d updated, %d ready, %d available", desired, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas)}
	for _, c := range d.Status.Conditions {
		if c.Status != corev1.ConditionTrue || c.Type == appsv1.DeploymentReplicaFailure {
			f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("condition %s=%s %s: %s", c.Type, c.Status, c.Reason, trimLine(c.Message)))
		}
	}
	if failing > 0 {
		f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("%s of %d failing (see the pod findings)", plural(failing, "pod", "pods"), len(pods)))
	}
	if d.Spec.Paused {
		f.Evidence.Status = append(f.Evidence.Status, "rollout is paused")
	}
	f.Evidence.Events = s.eventsOf(ref, maxEvents)
	w := shellf("deployment/%s -n %s", d.Name, d.Namespace) // quoted: goes into commands as it is
	if deadline {
		f.Rule = RuleDeploymentProgressDeadline
		f.Summary = fmt.Sprintf("rollout stalled (ProgressDeadlineExceeded): %d/%d replicas available", st.AvailableReplicas, desired)
		f.Cause = fmt.Sprintf("The newest ReplicaSet made no progress for %ds (spec.progressDeadlineSeconds), so the Deployment controller gave up waiting. Its pods cannot become available; their findings say why.", progressDeadline(d))
		f.Fixes = []Fix{
			{Description: "Roll back to the previous revision while you fix the new one", Command: "kubectl rollout undo " + w},
			{Description: "or ask opsagent to do it (previewed, needs approval)", Command: agentCommand(fmt.Sprintf("roll back %s in %s", d.Name, d.Namespace))},
			{Description: "See the rollout history", Command: "kubectl rollout history " + w},
		}
		return f, true
	}
	f.Summary = fmt.Sprintf("%d/%d replicas available", st.AvailableReplicas, desired)
	if failing == 0 {
		f.Summary += fmt.Sprintf(" for %s", duration.HumanDuration(s.Now.Sub(since)))
	}
	switch {
	case failing > 0:
		f.Cause = "Some of its pods fail (see their findings in this group), so the Deployment cannot reach its desired number of available replicas."
	case st.Replicas < desired:
		f.Cause = "The Deployment has fewer pods than it wants: its ReplicaSet cannot create them (see the ReplicaSet's findings or events; often a ResourceQuota or an admission webhook)."
	default:
		f.Cause = "Its pods exist but do not become available: they are not Ready, or not for minReadySeconds."
	}
	f.Fixes = []Fix{{Description: "See the rollout and the pods",
		Command: "kubectl rollout status " + w + shellf(" --timeout=10s; kubectl get pods -n %s -l %s", d.Namespace, selectorString(d.Spec.Selector.MatchLabels))}}
	if len(s.rsByOwner[d.UID]) > 1 {
		f.Fixes = append(f.Fixes, Fix{Description: "If the latest revision broke it, roll back", Command: "kubectl rollout undo " + w})
	}
	return f, true
}

func deploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

func progressDeadline(d *appsv1.Deployment) int32 {
	if d.Spec.ProgressDeadlineSeconds != nil {
		return *d.Spec.ProgressDeadlineSeconds
	}
	return int32((10 * time.Minute).Seconds())
}

func selectorString(m map[string]string) string {
	if len(m) == 0 {
		return "<selector>"
	}
	return formatLabels(m)
}

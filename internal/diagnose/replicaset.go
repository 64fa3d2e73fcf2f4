package diagnose

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// RuleReplicaSetFailedCreate: the ReplicaSet cannot create its pods.
const RuleReplicaSetFailedCreate = "ReplicaSetFailedCreate"

type replicaSetAnalyzer struct{}

var _ Analyzer = replicaSetAnalyzer{}

func (replicaSetAnalyzer) Kind() string      { return "ReplicaSet" }
func (replicaSetAnalyzer) Needs() []Resource { return needs(ResEvents) }

func (replicaSetAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.ReplicaSets {
		rs := &s.ReplicaSets[i]
		if !s.inScope(&rs.ObjectMeta) {
			continue
		}
		r.Checked++
		if rs.Spec.Replicas != nil && *rs.Spec.Replicas == 0 {
			continue
		}
		if f, ok := checkReplicaSet(s, rs); ok {
			r.Findings = append(r.Findings, f)
		}
	}
	return r
}

func checkReplicaSet(s *Snapshot, rs *appsv1.ReplicaSet) (Finding, bool) {
	var cond *appsv1.ReplicaSetCondition
	for i := range rs.Status.Conditions {
		if c := &rs.Status.Conditions[i]; c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
			cond = c
		}
	}
	if cond == nil {
		return Finding{}, false
	}
	ref := refOf("ReplicaSet", &rs.ObjectMeta)
	desired := int32(1)
	if rs.Spec.Replicas != nil {
		desired = *rs.Spec.Replicas
	}
	msg := trimLine(cond.Message)
	f := Finding{Rule: RuleReplicaSetFailedCreate, Severity: Critical, Object: ref, Owners: s.owners(&rs.ObjectMeta)}
	f.Summary = fmt.Sprintf("cannot create pods (%d/%d exist): %s", rs.Status.Replicas, desired, msg)
	f.Evidence.Status = []string{fmt.Sprintf("condition ReplicaFailure=True %s: %s", cond.Reason, msg),
		fmt.Sprintf("replicas: %d desired, %d created, %d ready", desired, rs.Status.Replicas, rs.Status.ReadyReplicas)}
	f.Evidence.Events = s.eventsOf(ref, maxEvents, "FailedCreate")
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "exceeded quota"):
		f.Cause = "The namespace's ResourceQuota does not allow another pod with these requests, so the API server refuses to create it."
		f.Fixes = []Fix{
			{Description: "See the quota's limits and what is used", Command: shellf("kubectl describe resourcequota -n %s", rs.Namespace)},
			{Description: "Raise the quota, lower the pods' requests, or scale something else down"},
		}
	case strings.Contains(lower, "must specify limits") || strings.Contains(lower, "must specify requests") || strings.Contains(lower, "limitrange"):
		f.Cause = "A LimitRange or ResourceQuota requires requests/limits the pod template does not set."
		f.Fixes = []Fix{{Description: "See the namespace's limits", Command: shellf("kubectl describe limitrange,resourcequota -n %s", rs.Namespace)}}
	case strings.Contains(lower, "admission webhook") || strings.Contains(lower, "denied the request"):
		f.Cause = "An admission webhook or policy refuses the pod template."
		f.Fixes = []Fix{{Description: "Read the policy's message above and change the pod template to comply"}}
	case strings.Contains(lower, "serviceaccount"):
		f.Cause = "The pod template's ServiceAccount does not exist."
		f.Fixes = []Fix{{Description: "Create the ServiceAccount or fix spec.template.spec.serviceAccountName", Command: shellf("kubectl get serviceaccounts -n %s", rs.Namespace)}}
	default:
		f.Cause = "The API server refuses to create the ReplicaSet's pods: " + msg
		f.Fixes = []Fix{{Description: "See the ReplicaSet's events", Command: shellf("kubectl describe replicaset %s -n %s", rs.Name, rs.Namespace)}}
	}
	return f, true
}

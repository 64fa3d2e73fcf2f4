package diagnose

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
)

// StatefulSet rules.
const (
	RuleStatefulSetUnavailable    = "StatefulSetUnavailable"
	RuleStatefulSetServiceMissing = "StatefulSetServiceMissing"
)

type statefulSetAnalyzer struct{}

var _ Analyzer = statefulSetAnalyzer{}

func (statefulSetAnalyzer) Kind() string      { return "StatefulSet" }
func (statefulSetAnalyzer) Needs() []Resource { return needs(ResPods, ResEvents, ResServices) }

func (statefulSetAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.StatefulSets {
		sts := &s.StatefulSets[i]
		if !s.inScope(&sts.ObjectMeta) {
			continue
		}
		r.Checked++
		r.Findings = append(r.Findings, checkStatefulSet(s, sts)...)
	}
	return r
}

func checkStatefulSet(s *Snapshot, sts *appsv1.StatefulSet) []Finding {
	var out []Finding
	ref := refOf("StatefulSet", &sts.ObjectMeta)
	owners := s.owners(&sts.ObjectMeta)
	if name := sts.Spec.ServiceName; name != "" && s.services[nsName{sts.Namespace, name}] == nil {
		f := Finding{Rule: RuleStatefulSetServiceMissing, Severity: Warning, Object: ref, Owners: owners}
		f.Summary = fmt.Sprintf("its governing Service %q does not exist", name)
		f.Evidence.Status = []string{"spec.serviceName: " + name}
		f.Cause = fmt.Sprintf("A StatefulSet's pods get their stable DNS names (%s-0.%s) from the headless Service named in spec.serviceName; without it they cannot find each other by name.", sts.Name, name)
		f.Fixes = []Fix{{Description: "Create the headless Service",
			Command: shellf("kubectl create service clusterip %s -n %s --clusterip=None --tcp=<port>:<port>   # then set its selector to the pods' labels", name, sts.Namespace)}}
		out = append(out, f)
	}
	desired := int32(1)
	if sts.Spec.Replicas != nil {
		desired = *sts.Spec.Replicas
	}
	st := sts.Status
	if desired == 0 || st.AvailableReplicas >= desired {
		return out
	}
	pods := s.podsOf(sts.UID)
	failing := 0
	for _, p := range pods {
		if podFailing(s, p) {
			failing++
		}
	}
	events := s.eventsOf(ref, maxEvents)
	stuck := len(pods) == 0 && s.Now.Sub(sts.CreationTimestamp.Time) > startupGrace
	if failing == 0 && len(events) == 0 && !stuck {
		return out // scaling or rolling in order; nothing wrong yet
	}
	f := Finding{Rule: RuleStatefulSetUnavailable, Severity: Warning, Object: ref, Owners: owners, Evidence: Evidence{Events: events}}
	if st.AvailableReplicas == 0 {
		f.Severity = Critical
	}
	f.Summary = fmt.Sprintf("%d/%d replicas available", st.AvailableReplicas, desired)
	f.Evidence.Status = []string{fmt.Sprintf("replicas: %d desired, %d created, %d ready, %d available, %d updated", desired, st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.UpdatedReplicas)}
	if st.CurrentRevision != st.UpdateRevision {
		f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("rolling from revision %s to %s", st.CurrentRevision, st.UpdateRevision))
	}
	policy := sts.Spec.PodManagementPolicy
	switch {
	case failing > 0:
		f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("%s of %d failing (see the pod findings)", plural(failing, "pod", "pods"), len(pods)))
		f.Cause = "Some of its pods fail (see their findings in this group)."
		if policy != appsv1.ParallelPodManagement {
			f.Cause += " With OrderedReady pod management the StatefulSet creates no further pod until the failing one is Ready."
		}
	case len(events) > 0:
		f.Cause = "The StatefulSet controller cannot create its pods or their claims; its events say why."
	default:
		f.Cause = "The StatefulSet has no pods although it wants some."
	}
	f.Fixes = []Fix{
		{Description: "See the StatefulSet's events and pods", Command: shellf("kubectl describe statefulset %s -n %s", sts.Name, sts.Namespace)},
		{Description: "After fixing the cause, restart it", Command: shellf("kubectl rollout restart statefulset/%s -n %s", sts.Name, sts.Namespace)},
	}
	return append(out, f)
}

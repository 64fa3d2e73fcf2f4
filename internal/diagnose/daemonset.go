package diagnose

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
)

// DaemonSet rules.
const (
	RuleDaemonSetUnavailable  = "DaemonSetUnavailable"
	RuleDaemonSetMisscheduled = "DaemonSetMisscheduled"
)

type daemonSetAnalyzer struct{}

var _ Analyzer = daemonSetAnalyzer{}

func (daemonSetAnalyzer) Kind() string      { return "DaemonSet" }
func (daemonSetAnalyzer) Needs() []Resource { return needs(ResPods, ResEvents) }

func (daemonSetAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.DaemonSets {
		ds := &s.DaemonSets[i]
		if !s.inScope(&ds.ObjectMeta) {
			continue
		}
		r.Checked++
		r.Findings = append(r.Findings, checkDaemonSet(s, ds)...)
	}
	return r
}

func checkDaemonSet(s *Snapshot, ds *appsv1.DaemonSet) []Finding {
	var out []Finding
	ref := refOf("DaemonSet", &ds.ObjectMeta)
	owners := s.owners(&ds.ObjectMeta)
	st := ds.Status
	if st.NumberMisscheduled > 0 {
		f := Finding{Rule: RuleDaemonSetMisscheduled, Severity: Warning, Object: ref, Owners: owners}
		f.Summary = fmt.Sprintf("%s run on nodes they should not", plural(int(st.NumberMisscheduled), "pod", "pods"))
		f.Evidence.Status = []string{fmt.Sprintf("numberMisscheduled: %d", st.NumberMisscheduled)}
		f.Cause = "Nodes changed (labels or taints) after the pods were placed, and the pods no longer match the DaemonSet's node selector or tolerations."
		f.Fixes = []Fix{{Description: "Compare the DaemonSet's nodeSelector and tolerations with the nodes", Command: "kubectl get nodes --show-labels"}}
		out = append(out, f)
	}
	unavailable := st.DesiredNumberScheduled - st.NumberAvailable
	if st.DesiredNumberScheduled == 0 || unavailable <= 0 {
		return out
	}
	pods := s.podsOf(ds.UID)
	failing := 0
	for _, p := range pods {
		if podFailing(s, p) {
			failing++
		}
	}
	events := s.eventsOf(ref, maxEvents)
	if failing == 0 && len(events) == 0 {
		return out // rolling out node by node, or pods starting
	}
	f := Finding{Rule: RuleDaemonSetUnavailable, Severity: Warning, Object: ref, Owners: owners, Evidence: Evidence{Events: events}}
	if st.NumberAvailable == 0 {
		f.Severity = Critical
	}
	f.Summary = fmt.Sprintf("%d/%d pods available", st.NumberAvailable, st.DesiredNumberScheduled)
	f.Evidence.Status = []string{fmt.Sprintf("pods: %d desired, %d scheduled, %d ready, %d available, %d updated",
		st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberReady, st.NumberAvailable, st.UpdatedNumberScheduled)}
	if failing > 0 {
		f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("%s of %d failing (see the pod findings)", plural(failing, "pod", "pods"), len(pods)))
		f.Cause = "Some of its pods fail (see their findings in this group)."
	} else {
		f.Cause = "The DaemonSet controller cannot run its pod on every node; its events say why."
	}
	f.Fixes = []Fix{
		{Description: "See the DaemonSet's events and pods", Command: shellf("kubectl describe daemonset %s -n %s", ds.Name, ds.Namespace)},
		{Description: "After fixing the cause, restart it", Command: shellf("kubectl rollout restart daemonset/%s -n %s", ds.Name, ds.Namespace)},
	}
	return append(out, f)
}

package diagnose

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Node rules.
const (
	RuleNodeNotReady           = "NodeNotReady"
	RuleNodePressure           = "NodePressure"
	RuleNodeNetworkUnavailable = "NodeNetworkUnavailable"
	RuleNodeCordoned           = "NodeCordoned"
)

type nodeAnalyzer struct{}

var _ Analyzer = nodeAnalyzer{}

func (nodeAnalyzer) Kind() string      { return "Node" }
func (nodeAnalyzer) Needs() []Resource { return []Resource{ResNodes, ResPods} }

// Analyze checks the nodes that matter for the scope: every node for all
// namespaces, else the nodes that run the scope's pods.
func (nodeAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	hosts := map[string]int{}
	for i := range s.Pods {
		if p := &s.Pods[i]; p.Spec.NodeName != "" && s.inScope(&p.ObjectMeta) {
			hosts[p.Spec.NodeName]++
		}
	}
	for i := range s.settled {
		if k := s.settled[i].class; k.node != "" && s.inScopeAt(k.namespace, k.labels) {
			hosts[k.node]++
		}
	}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		relevant := hosts[n.Name] > 0
		if s.scope.namespace == "" {
			relevant = relevant || s.inScope(&n.ObjectMeta)
		}
		if !relevant {
			continue
		}
		r.Checked++
		r.Findings = append(r.Findings, checkNode(s, n, hosts[n.Name])...)
	}
	return r
}

func checkNode(s *Snapshot, n *corev1.Node, pods int) []Finding {
	var out []Finding
	ref := refOf("Node", &n.ObjectMeta)
	podsLine := fmt.Sprintf("pods in scope on the node: %d", pods)
	for _, c := range n.Status.Conditions {
		since := duration.HumanDuration(s.Now.Sub(c.LastTransitionTime.Time))
		status := fmt.Sprintf("condition %s=%s %s: %s (since %s)", c.Type, c.Status, c.Reason, trimLine(c.Message), since)
		switch {
		case c.Type == corev1.NodeReady && c.Status != corev1.ConditionTrue:
			f := Finding{Rule: RuleNodeNotReady, Severity: Critical, Object: ref}
			f.Summary = fmt.Sprintf("is NotReady (%s) for %s: %s", c.Reason, since, trimLine(c.Message))
			f.Evidence.Status = []string{status, podsLine}
			if c.Status == corev1.ConditionUnknown {
				f.Cause = "The node's kubelet stopped reporting (the node is down, unreachable or overloaded). After a few minutes its pods are evicted and re-created elsewhere."
			} else {
				f.Cause = "The kubelet reports the node unhealthy (container runtime, network plugin or resources); it runs no new pods until it recovers."
			}
			f.Fixes = []Fix{
				{Description: "See the node's conditions and recent events", Command: "kubectl describe node " + n.Name},
				{Description: "Move the workloads away while you repair it", Command: shellf("kubectl drain %s --ignore-daemonsets --delete-emptydir-data", n.Name)},
			}
			out = append(out, f)
		case (c.Type == corev1.NodeMemoryPressure || c.Type == corev1.NodeDiskPressure || c.Type == corev1.NodePIDPressure) && c.Status == corev1.ConditionTrue:
			f := Finding{Rule: RuleNodePressure, Severity: Warning, Object: ref, mergeKey: string(c.Type)}
			f.Summary = fmt.Sprintf("has %s: %s", c.Type, trimLine(c.Message))
			f.Evidence.Status = []string{status, podsLine}
			f.Cause = map[corev1.NodeConditionType]string{
				corev1.NodeMemoryPressure: "The node is short of memory: the kubelet evicts pods (BestEffort first, then those over their requests) and the scheduler places no new pods there.",
				corev1.NodeDiskPressure:   "The node is short of disk (root or image filesystem): the kubelet deletes unused images and evicts pods, and the scheduler places no new pods there.",
				corev1.NodePIDPressure:    "The node is running out of process IDs: a pod is probably forking without limit; the kubelet evicts pods.",
			}[c.Type]
			f.Fixes = []Fix{
				{Description: "See which pods use the most", Command: shellf("kubectl describe node %s; kubectl top pods -A --sort-by=memory", n.Name)},
				{Description: "Set requests and limits on the heavy pods, or add capacity"},
			}
			out = append(out, f)
		case c.Type == corev1.NodeNetworkUnavailable && c.Status == corev1.ConditionTrue:
			f := Finding{Rule: RuleNodeNetworkUnavailable, Severity: Critical, Object: ref}
			f.Summary = "network is unavailable: " + trimLine(c.Message)
			f.Evidence.Status = []string{status, podsLine}
			f.Cause = "The node's network (routes or CNI plugin) is not configured; its pods cannot talk to others."
			f.Fixes = []Fix{{Description: "Check the CNI plugin's pods on that node", Command: shellf("kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=%s", n.Name)}}
			out = append(out, f)
		}
	}
	if n.Spec.Unschedulable {
		f := Finding{Rule: RuleNodeCordoned, Severity: Warning, Object: ref}
		f.Summary = "is cordoned: no new pods are scheduled on it"
		f.Evidence.Status = []string{"spec.unschedulable: true", podsLine}
		f.Cause = "Someone (or a drain for maintenance) marked the node unschedulable. Right during maintenance; a problem if it was forgotten, because the cluster has less room."
		f.Fixes = []Fix{{Description: "When maintenance is over, allow scheduling again", Command: "kubectl uncordon " + n.Name}}
		out = append(out, f)
	}
	return out
}

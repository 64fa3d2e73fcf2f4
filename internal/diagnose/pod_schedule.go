package diagnose

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Scheduling rules: a pod no node takes, and what it would need.

// unscheduled reports pods the scheduler could not place, and pods pending
// without a node for longer than the grace period.
func (c *podCheck) unscheduled() (Finding, bool) {
	if c.p.Spec.NodeName != "" || c.p.Status.Phase != corev1.PodPending {
		return Finding{}, false
	}
	cond := podCondition(c.p, corev1.PodScheduled)
	if cond != nil && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable {
		return c.unschedulable(cond), true
	}
	if c.s.Now.Sub(c.p.CreationTimestamp.Time) < startupGrace {
		return Finding{}, false
	}
	f := c.finding(RulePodPending, Warning, "pending")
	f.Summary = fmt.Sprintf("has been Pending without a node for %s", duration.HumanDuration(c.s.Now.Sub(c.p.CreationTimestamp.Time)))
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents)
	if cond != nil && cond.Reason == corev1.PodReasonSchedulingGated {
		f.Evidence.Status = []string{"condition PodScheduled=False: SchedulingGated"}
		f.Cause = "The pod has scheduling gates (spec.schedulingGates); the scheduler ignores it until whatever added them removes them."
	} else {
		f.Cause = "No scheduler has picked the pod up: check that kube-scheduler (or the scheduler named in spec.schedulerName) is running."
		if c.p.Spec.SchedulerName != "" && c.p.Spec.SchedulerName != corev1.DefaultSchedulerName {
			f.Evidence.Status = append(f.Evidence.Status, "schedulerName: "+c.p.Spec.SchedulerName)
		}
	}
	f.Fixes = []Fix{{Description: "See the pod's conditions and events", Command: shellf("kubectl describe pod %s -n %s", c.p.Name, c.ns())}}
	return f, true
}

func (c *podCheck) unschedulable(cond *corev1.PodCondition) Finding {
	f := c.finding(RulePodUnschedulable, Critical, "unschedulable")
	msg := trimLine(cond.Message)
	f.Summary = "cannot be scheduled: " + msg
	f.Evidence.Status = []string{"condition PodScheduled=False Unschedulable: " + msg}
	req := podRequests(&c.p.Spec)
	if len(req) > 0 {
		f.Evidence.Status = append(f.Evidence.Status, "requests: "+formatResources(req))
	}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "FailedScheduling")
	lower := strings.ToLower(msg)
	var causes []string
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		if !strings.Contains(lower, "insufficient "+string(res)) {
			continue
		}
		q := req[res]
		largest, ok := c.largestAllocatable(res)
		text := fmt.Sprintf("no node has %s %s free for the pod's request", q.String(), res)
		if ok {
			text += fmt.Sprintf(" (the largest node can allocate %s in total)", largest.String())
		}
		causes = append(causes, text)
		target := halve(q)
		if ok && q.Cmp(largest) > 0 {
			target = halve(largest)
		}
		if c.owned && c.workload.Kind != "Job" && c.workload.Kind != "CronJob" {
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("Lower the %s request so that it fits a node", res),
				Command: shellf("kubectl set resources %s -n %s --requests=%s=%s", c.workload.kubectlName(), c.workload.Namespace, res, target.String())})
		} else {
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("Lower the %s request in the manifest (to at most %s) and re-create the pod", res, target.String())})
		}
	}
	switch {
	case strings.Contains(lower, "too many pods"):
		causes = append(causes, "the nodes are full (their pod capacity is reached)")
		f.Fixes = append(f.Fixes, Fix{Description: "Add nodes, or remove pods that are no longer needed"})
	case strings.Contains(lower, "node affinity") || strings.Contains(lower, "node selector"):
		causes = append(causes, "its nodeSelector or node affinity matches no node")
		if len(c.p.Spec.NodeSelector) > 0 {
			f.Evidence.Status = append(f.Evidence.Status, "nodeSelector: "+formatLabels(c.p.Spec.NodeSelector))
		}
		f.Fixes = append(f.Fixes, Fix{Description: "Compare the pod's nodeSelector/affinity with the node labels", Command: "kubectl get nodes --show-labels"})
	}
	if strings.Contains(lower, "untolerated taint") || strings.Contains(lower, "had taint") {
		causes = append(causes, "the nodes have taints the pod does not tolerate")
		f.Fixes = append(f.Fixes, Fix{Description: "See the nodes' taints", Command: "kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints"})
	}
	if strings.Contains(lower, "persistentvolumeclaim") || strings.Contains(lower, "volume node affinity") {
		causes = append(causes, "a volume it needs is not bound or is on another node")
		f.Fixes = append(f.Fixes, Fix{Description: "Check the pod's claims", Command: shellf("kubectl get pvc -n %s", c.ns())})
	}
	if len(causes) == 0 {
		f.Cause = "The scheduler found no node that satisfies the pod: " + msg
	} else {
		f.Cause = "The scheduler cannot place the pod: " + strings.Join(causes, "; ") + "."
	}
	if len(f.Fixes) == 0 {
		f.Fixes = []Fix{{Description: "See the scheduler's reasons", Command: shellf("kubectl describe pod %s -n %s", c.p.Name, c.ns())}}
	}
	f.Fixes = append(f.Fixes, Fix{Description: "or add capacity: more or larger nodes"})
	return f
}

func (c *podCheck) largestAllocatable(res corev1.ResourceName) (resource.Quantity, bool) {
	var best resource.Quantity
	found := false
	for i := range c.s.Nodes {
		if q, ok := c.s.Nodes[i].Status.Allocatable[res]; ok && (!found || q.Cmp(best) > 0) {
			best, found = q, true
		}
	}
	return best, found
}

func halve(q resource.Quantity) resource.Quantity {
	return *resource.NewMilliQuantity(q.MilliValue()/2, q.Format)
}

// podRequests sums the containers' requests (the scheduler also takes the
// largest init container; the sum is what usually matters).
func podRequests(spec *corev1.PodSpec) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, c := range spec.Containers {
		for k, v := range c.Resources.Requests {
			q := out[k]
			q.Add(v)
			out[k] = q
		}
	}
	return out
}

func formatResources(rl corev1.ResourceList) string {
	var parts []string
	for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		if q, ok := rl[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", k, q.String()))
		}
	}
	return strings.Join(parts, ", ")
}

func formatLabels(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

package diagnose

import (
	"cmp"
	"fmt"
)

// Phase rules: pods that failed or were evicted.

// failed checks a pod in phase Failed.
func (c *podCheck) failed() []Finding {
	p := c.p
	if p.Status.Reason == "Evicted" {
		f := c.finding(RulePodEvicted, Warning, "evicted")
		f.Summary = "was evicted: " + trimLine(p.Status.Message)
		f.Evidence.Status = []string{"phase: Failed, reason: Evicted", "node: " + p.Spec.NodeName, "message: " + trimLine(p.Status.Message)}
		f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "Evicted")
		f.Cause = "The kubelet evicted the pod to reclaim a resource the node was short of (memory, disk or PIDs). A controller replaces evicted pods; the evicted one stays until deleted."
		f.Fixes = []Fix{
			{Description: "See what the node is short of", Command: shellf("kubectl describe node %s", p.Spec.NodeName)},
			{Description: "Set requests close to real usage so the pod is not first to go, then delete the evicted pod", Command: shellf("kubectl delete pod %s -n %s", p.Name, p.Namespace)},
		}
		return []Finding{f}
	}
	if c.owned && (c.workload.Kind == "Job" || c.workload.Kind == "CronJob") && c.jobSucceeded() {
		return nil // a retry succeeded: the failure is history
	}
	sev := Critical
	if c.owned && c.workload.Kind != "Job" && c.workload.Kind != "CronJob" {
		sev = Warning // its controller has replaced it
	}
	for _, cs := range c.statuses() {
		t := cs.status.State.Terminated
		if t == nil || t.ExitCode == 0 {
			continue
		}
		rule := RulePodFailed
		if cs.init {
			rule = RulePodInitContainerFailed
		}
		f := c.finding(rule, sev, cs.status.Name)
		f.Summary = fmt.Sprintf("failed: %s exited with code %d (%s)", cs.what(), t.ExitCode, cmp.Or(t.Reason, "Error"))
		f.Evidence.Status = []string{"phase: Failed", cs.what() + ": " + describeTermination(t), "image: " + cs.status.Image}
		f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents)
		f.Cause = fmt.Sprintf("The pod ran to an end and failed: %s.", exitCause(t.ExitCode, t.Reason, t.Signal))
		f.Fixes = []Fix{{Description: "Read the failed run's log", Command: shellf("kubectl logs %s -n %s -c %s", p.Name, p.Namespace, cs.status.Name)}}
		switch {
		case c.owned && c.workload.Kind == "CronJob":
			f.Fixes = append(f.Fixes, Fix{Description: "After fixing the cause, run the CronJob once by hand",
				Command: shellf("kubectl create job %s-manual -n %s --from=cronjob/%s", c.workload.Name, c.workload.Namespace, c.workload.Name)})
		case c.owned && c.workload.Kind == "Job":
			f.Fixes = append(f.Fixes, Fix{Description: "After fixing the cause, re-run the Job (a finished Job does not restart)",
				Command: shellf("kubectl delete job %s -n %s && kubectl apply -f <job manifest>", c.workload.Name, c.workload.Namespace)})
		case !c.owned:
			f.Fixes = append(f.Fixes, Fix{Description: "After fixing the cause, re-create the pod",
				Command: shellf("kubectl delete pod %s -n %s && kubectl apply -f <pod manifest>", p.Name, p.Namespace)})
		}
		f.logs = &logRequest{namespace: p.Namespace, pod: p.Name, container: cs.status.Name}
		return []Finding{f}
	}
	f := c.finding(RulePodFailed, sev, "failed:"+p.Status.Reason)
	f.Summary = "failed: " + cmp.Or(p.Status.Reason, "no reason given")
	if p.Status.Message != "" {
		f.Summary += ": " + trimLine(p.Status.Message)
	}
	f.Evidence.Status = []string{"phase: Failed, reason: " + cmp.Or(p.Status.Reason, "none"), "node: " + p.Spec.NodeName}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents)
	f.Cause = "The pod failed as a whole: " + cmp.Or(trimLine(p.Status.Message), "its status gives no message") + "."
	f.Fixes = []Fix{{Description: "See the pod's status and events", Command: shellf("kubectl describe pod %s -n %s", p.Name, p.Namespace)}}
	return []Finding{f}
}

func (c *podCheck) jobSucceeded() bool {
	for _, o := range c.owners {
		if o.Kind != "Job" {
			continue
		}
		for i := range c.s.Jobs {
			if j := &c.s.Jobs[i]; j.UID == o.UID {
				return jobCondition(j, "Complete") != nil
			}
		}
	}
	return false
}

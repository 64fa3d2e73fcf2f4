package diagnose

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Container rules: what a container's state says (crash loop, OOM kill,
// image pull, configuration errors, stuck creating).

func (c *podCheck) crashLoop(cs containerStatus) Finding {
	st := cs.status
	rule := RulePodCrashLoopBackOff
	if cs.init {
		rule = RulePodInitContainerFailed
	}
	f := c.finding(rule, Critical, st.Name)
	lt := st.LastTerminationState.Terminated
	f.Evidence.Status = []string{cs.what() + ": waiting: CrashLoopBackOff", "image: " + st.Image}
	if lt != nil {
		code, signal, reason := lt.ExitCode, lt.Signal, cmp.Or(lt.Reason, "Error")
		f.Evidence.Status = append(f.Evidence.Status, "last state: "+describeTermination(lt))
		f.Summary = fmt.Sprintf("%s is in CrashLoopBackOff: last exit code %d (%s), %s", cs.what(), code, reason, plural(int(st.RestartCount), "restart", "restarts"))
		f.Cause = fmt.Sprintf("The %s keeps exiting and the kubelet restarts it with a growing back-off: %s.", cs.what(), exitCause(code, reason, signal))
	} else {
		f.Summary = fmt.Sprintf("%s is in CrashLoopBackOff, %s", cs.what(), plural(int(st.RestartCount), "restart", "restarts"))
		f.Cause = fmt.Sprintf("The %s keeps exiting and the kubelet restarts it with a growing back-off.", cs.what())
	}
	if cs.init {
		f.Cause += " The pod's other containers do not start until it succeeds."
	}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "BackOff", "Unhealthy", "Killing", "Failed")
	f.Fixes = []Fix{{Description: "Read why it exits: the log of the crashed run",
		Command: shellf("kubectl logs %s -n %s -c %s --previous", c.p.Name, c.ns(), st.Name)}}
	if rev, img, ok := c.s.previousRevision(c.p, c.owners, st.Name); ok {
		f.Fixes = append(f.Fixes, rollbackFixes(c.workload, rev, img)...)
	}
	f.Fixes = append(f.Fixes, restartFix(c.workload, c.owned, c.ref))
	f.logs = &logRequest{namespace: c.ns(), pod: c.p.Name, container: st.Name, previous: true}
	return f
}

func (c *podCheck) oomKilled(cs containerStatus, looping bool) Finding {
	st := cs.status
	sev := Warning
	if looping {
		sev = Critical
	}
	f := c.finding(RulePodOOMKilled, sev, st.Name)
	var limit *resource.Quantity
	if cs.spec != nil {
		if q, ok := cs.spec.Resources.Limits[corev1.ResourceMemory]; ok {
			limit = &q
		}
	}
	limitText := "no memory limit"
	if limit != nil {
		limitText = "memory limit " + limit.String()
	}
	state := "running again"
	if looping {
		state = "in CrashLoopBackOff"
	}
	f.Summary = fmt.Sprintf("%s was OOMKilled (exit code 137) with %s; %s, %s", cs.what(), limitText, state, plural(int(st.RestartCount), "restart", "restarts"))
	f.Evidence.Status = []string{cs.what() + ": " + limitText, "last state: " + describeTermination(st.LastTerminationState.Terminated)}
	if cs.spec != nil {
		if q, ok := cs.spec.Resources.Requests[corev1.ResourceMemory]; ok {
			f.Evidence.Status = append(f.Evidence.Status, cs.what()+": memory request "+q.String())
		}
	}
	if looping {
		f.Evidence.Status = append(f.Evidence.Status, cs.what()+": waiting: CrashLoopBackOff")
	}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "BackOff", "OOMKilling", "Killing")
	if limit != nil {
		f.Cause = fmt.Sprintf("The %s used more memory than its limit of %s, so the kernel killed it (OOMKilled). Either the limit is too low for the workload or the application leaks memory.", cs.what(), limit.String())
		newLimit := doubled(*limit)
		if c.owned && c.workload.Kind != "Job" && c.workload.Kind != "CronJob" {
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("Raise the memory limit from %s to %s", limit.String(), newLimit),
				Command: shellf("kubectl set resources %s -n %s -c %s --limits=memory=%s", c.workload.kubectlName(), c.workload.Namespace, st.Name, newLimit)})
		} else {
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("Raise the memory limit of %s from %s to %s in the manifest and re-create the pod", cs.what(), limit.String(), newLimit)})
		}
		if rel, relNS, ok := c.s.helmRelease(c.workload); ok && c.owned {
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("The workload comes from Helm release %s: make the change in the chart values (the key depends on the chart, often resources.limits.memory) or it is undone by the next upgrade", rel),
				Command: shellf("helm upgrade %s <chart> -n %s --reuse-values --set resources.limits.memory=%s", rel, relNS, newLimit)})
		}
	} else {
		f.Cause = fmt.Sprintf("The %s has no memory limit and was killed when the node ran out of memory (OOMKilled).", cs.what())
		f.Fixes = append(f.Fixes, Fix{Description: "Give the container a memory request and limit that match what it uses, so the scheduler places it on a node with room"})
	}
	f.Fixes = append(f.Fixes, Fix{Description: "Check the log of the killed run for what used the memory",
		Command: shellf("kubectl logs %s -n %s -c %s --previous", c.p.Name, c.ns(), st.Name)})
	f.logs = &logRequest{namespace: c.ns(), pod: c.p.Name, container: st.Name, previous: true}
	return f
}

func (c *podCheck) restarting(cs containerStatus, lt *corev1.ContainerStateTerminated) Finding {
	st := cs.status
	f := c.finding(RulePodRestarting, Warning, st.Name)
	ago := duration.HumanDuration(c.s.Now.Sub(lt.FinishedAt.Time))
	f.Summary = fmt.Sprintf("%s restarted %s ago after exit code %d (%s); %s in total", cs.what(), ago, lt.ExitCode, cmp.Or(lt.Reason, "Error"), plural(int(st.RestartCount), "restart", "restarts"))
	f.Evidence.Status = []string{cs.what() + ": running", "last state: " + describeTermination(lt)}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "BackOff", "Unhealthy", "Killing")
	f.Cause = fmt.Sprintf("The %s is running again, but its previous run ended because %s.", cs.what(), exitCause(lt.ExitCode, lt.Reason, lt.Signal))
	f.Fixes = []Fix{{Description: "Read the log of the previous run",
		Command: shellf("kubectl logs %s -n %s -c %s --previous", c.p.Name, c.ns(), st.Name)}}
	f.logs = &logRequest{namespace: c.ns(), pod: c.p.Name, container: st.Name, previous: true}
	return f
}

func (c *podCheck) imagePull(cs containerStatus) Finding {
	st := cs.status
	w := st.State.Waiting
	f := c.finding(RulePodImagePullError, Critical, st.Name)
	image := st.Image
	if cs.spec != nil {
		image = cs.spec.Image
	}
	f.Summary = fmt.Sprintf("%s cannot pull image %q: %s", cs.what(), image, w.Reason)
	f.Evidence.Status = []string{fmt.Sprintf("%s: waiting: %s", cs.what(), w.Reason), "image: " + image}
	if w.Message != "" {
		f.Evidence.Status = append(f.Evidence.Status, "message: "+trimLine(w.Message))
	}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "Failed", "BackOff", "ErrImagePull", "InspectFailed")
	text := strings.ToLower(w.Message)
	for _, e := range f.Evidence.Events {
		text += " " + strings.ToLower(e.Message)
	}
	var missingPull []string
	for _, ps := range c.p.Spec.ImagePullSecrets {
		if info, known := c.s.secret(c.ns(), ps.Name); known && info == nil {
			missingPull = append(missingPull, ps.Name)
		}
	}
	switch {
	case w.Reason == "InvalidImageName":
		f.Cause = fmt.Sprintf("The image reference %q is not a valid image name, so the kubelet cannot even try to pull it.", image)
	case containsAny(text, "unauthorized", "authentication required", "denied", "forbidden", "no basic auth"):
		f.Cause = fmt.Sprintf("The registry refused to serve %q: the image is private and the pod has no valid credentials (imagePullSecrets), or the name is wrong.", image)
	case containsAny(text, "not found", "manifest unknown", "does not exist", "no such host"):
		f.Cause = fmt.Sprintf("The image %q does not exist: the repository or tag is wrong, or it was never pushed.", image)
	default:
		f.Cause = fmt.Sprintf("The kubelet cannot pull %q; it retries with a growing back-off.", image)
	}
	if len(missingPull) > 0 {
		f.Evidence.Status = append(f.Evidence.Status, "imagePullSecrets that do not exist: "+strings.Join(missingPull, ", "))
		f.Cause += fmt.Sprintf(" The pull secret %s named by the pod does not exist.", strings.Join(missingPull, ", "))
	}
	if rev, img, ok := c.s.previousRevision(c.p, c.owners, st.Name); ok {
		f.Fixes = append(f.Fixes, rollbackFixes(c.workload, rev, img)...)
	}
	if c.owned && c.workload.Kind != "Job" && c.workload.Kind != "CronJob" {
		f.Fixes = append(f.Fixes, Fix{Description: "Set an image and tag that exist",
			Command: shellf("kubectl set image %s -n %s %s=<image>:<tag>", c.workload.kubectlName(), c.workload.Namespace, st.Name)})
	} else {
		f.Fixes = append(f.Fixes, Fix{Description: "Fix the image reference in the manifest and re-create the pod"})
	}
	if len(missingPull) > 0 || strings.Contains(f.Cause, "private") {
		name := "regcred"
		if len(missingPull) > 0 {
			name = missingPull[0]
		}
		f.Fixes = append(f.Fixes, Fix{Description: "Create the registry credentials the pod names in imagePullSecrets",
			Command: shellf("kubectl create secret docker-registry %s -n %s --docker-server=<registry> --docker-username=<user> --docker-password=<password>", name, c.ns())})
	}
	return f
}

func (c *podCheck) configError(cs containerStatus, broken []ConfigRef) Finding {
	st := cs.status
	f := c.finding(RulePodCreateContainerConfig, Critical, st.Name)
	var mine []ConfigRef
	for _, r := range broken {
		if r.Container == st.Name || r.Container == "" {
			mine = append(mine, r)
		}
	}
	msg := trimLine(st.State.Waiting.Message)
	f.Evidence.Status = []string{fmt.Sprintf("%s: waiting: CreateContainerConfigError: %s", cs.what(), msg)}
	for _, r := range mine {
		f.Evidence.Status = append(f.Evidence.Status, c.s.describeRef(c.ns(), r))
		f.Fixes = append(f.Fixes, refFix(c.ns(), r))
	}
	if len(mine) > 0 {
		f.Summary = fmt.Sprintf("%s cannot start: %s", cs.what(), refProblem(mine[0]))
		if len(mine) > 1 {
			f.Summary += fmt.Sprintf(" (and %d more)", len(mine)-1)
		}
	} else {
		f.Summary = fmt.Sprintf("%s cannot start: %s", cs.what(), msg)
	}
	f.Cause = fmt.Sprintf("The kubelet cannot build the environment or files of the %s because a Secret, ConfigMap or key it references does not exist.", cs.what())
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "Failed", "FailedMount")
	f.Fixes = append(f.Fixes, Fix{Description: "or mark the reference optional (optional: true) if the container can run without it"})
	return f
}

func refProblem(r ConfigRef) string {
	if r.Status == RefMissing {
		return fmt.Sprintf("%s %q not found (%s)", r.Kind, r.Name, r.where())
	}
	return fmt.Sprintf("key %q not found in %s %q (%s)", r.Key, r.Kind, r.Name, r.where())
}

func (c *podCheck) missingRefs(refs []ConfigRef) Finding {
	keys := make([]string, len(refs))
	for i, r := range refs {
		keys[i] = r.target()
	}
	f := c.finding(RulePodMissingReference, Critical, strings.Join(keys, ";"))
	f.Summary = "references " + refProblem(refs[0])
	if len(refs) > 1 {
		f.Summary += fmt.Sprintf(" and %d more missing", len(refs)-1)
	}
	for _, r := range refs {
		f.Evidence.Status = append(f.Evidence.Status, c.s.describeRef(c.ns(), r))
		f.Fixes = append(f.Fixes, refFix(c.ns(), r))
	}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "FailedMount", "Failed")
	f.Cause = "The pod spec references a Secret, ConfigMap or key that does not exist and is not optional. The kubelet refuses to start the container (CreateContainerConfigError) or to mount the volume (ContainerCreating) the next time it starts it, even if its status does not show it yet."
	f.Fixes = append(f.Fixes, Fix{Description: "or mark the reference optional (optional: true) if the pod can run without it"})
	return f
}

func (c *podCheck) containerError(cs containerStatus) Finding {
	st := cs.status
	w := st.State.Waiting
	f := c.finding(RulePodContainerError, Critical, st.Name)
	f.Summary = fmt.Sprintf("%s cannot start: %s", cs.what(), w.Reason)
	f.Evidence.Status = []string{fmt.Sprintf("%s: waiting: %s: %s", cs.what(), w.Reason, trimLine(w.Message)), "image: " + st.Image}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "Failed", "FailedPostStartHook", "FailedPreStopHook")
	f.Cause = fmt.Sprintf("The container runtime could not create or start the %s (%s). The message usually names the cause: a command that does not exist in the image, a bad mount, a failing lifecycle hook.", cs.what(), w.Reason)
	f.Fixes = []Fix{{Description: "See the runtime's message and the events", Command: shellf("kubectl describe pod %s -n %s", c.p.Name, c.ns())},
		restartFix(c.workload, c.owned, c.ref)}
	return f
}

func (c *podCheck) stuckCreating(cs containerStatus) (Finding, bool) {
	since := c.p.CreationTimestamp.Time
	if cond := podCondition(c.p, corev1.PodScheduled); cond != nil && cond.Status == corev1.ConditionTrue {
		since = cond.LastTransitionTime.Time
	}
	if c.s.Now.Sub(since) < startupGrace {
		return Finding{}, false
	}
	st := cs.status
	f := c.finding(RulePodStuckCreating, Warning, st.Name)
	f.Summary = fmt.Sprintf("%s has been %s for %s", cs.what(), st.State.Waiting.Reason, duration.HumanDuration(c.s.Now.Sub(since)))
	f.Evidence.Status = []string{fmt.Sprintf("%s: waiting: %s", cs.what(), st.State.Waiting.Reason), "node: " + c.p.Spec.NodeName}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "FailedMount", "FailedAttachVolume", "FailedCreatePodSandBox", "FailedSync", "Failed")
	f.Cause = "The kubelet has not managed to set the pod up: usually a volume that cannot be mounted or attached, or a network (CNI) failure on the node. The events name it."
	if len(f.Evidence.Events) > 0 {
		f.Severity = Critical
	}
	f.Fixes = []Fix{{Description: "See the mount and sandbox events", Command: shellf("kubectl describe pod %s -n %s", c.p.Name, c.ns())}}
	return f, true
}

func (c *podCheck) initRunning(cs containerStatus, started time.Time) Finding {
	f := c.finding(RulePodInitContainerRunning, Warning, cs.status.Name)
	f.Summary = fmt.Sprintf("%s has been running for %s; the pod's containers wait for it to finish", cs.what(), duration.HumanDuration(c.s.Now.Sub(started)))
	f.Evidence.Status = []string{cs.what() + ": running", "image: " + cs.status.Image}
	f.Cause = "An init container must finish before the pod's containers start. This one has not: it is usually waiting for something (a database, a Service, a file) that is not there."
	f.Fixes = []Fix{{Description: "See what it is waiting for", Command: shellf("kubectl logs %s -n %s -c %s", c.p.Name, c.ns(), cs.status.Name)}}
	f.logs = &logRequest{namespace: c.ns(), pod: c.p.Name, container: cs.status.Name}
	return f
}

package diagnose

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Pod rules.
const (
	RulePodCrashLoopBackOff      = "PodCrashLoopBackOff"
	RulePodOOMKilled             = "PodOOMKilled"
	RulePodRestarting            = "PodRestarting"
	RulePodImagePullError        = "PodImagePullError"
	RulePodCreateContainerConfig = "PodCreateContainerConfigError"
	RulePodContainerError        = "PodContainerError"
	RulePodMissingReference      = "PodMissingReference"
	RulePodUnschedulable         = "PodUnschedulable"
	RulePodPending               = "PodPending"
	RulePodStuckCreating         = "PodStuckCreating"
	RulePodProbeFailing          = "PodProbeFailing"
	RulePodNotReady              = "PodNotReady"
	RulePodEvicted               = "PodEvicted"
	RulePodFailed                = "PodFailed"
	RulePodInitContainerFailed   = "PodInitContainerFailed"
	RulePodInitContainerRunning  = "PodInitContainerRunning"
)

// Container waiting reasons, grouped by what they mean.
var (
	imagePullReasons   = []string{"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable", "SignatureValidationFailed"}
	containerErrReason = []string{"CreateContainerError", "RunContainerError", "ContainerCannotRun", "PreStartHookError", "PostStartHookError", "StartError"}
	creatingReasons    = []string{"ContainerCreating", "PodInitializing"}
)

type podAnalyzer struct{}

var _ Analyzer = podAnalyzer{}

func (podAnalyzer) Kind() string { return "Pod" }

func (podAnalyzer) Needs() []Resource {
	return needs(ResPods, ResEvents, ResSecrets, ResConfigMaps, ResNodes)
}

func (podAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.Pods {
		p := &s.Pods[i]
		if !s.inScope(&p.ObjectMeta) {
			continue
		}
		r.Checked++
		r.Findings = append(r.Findings, checkPod(s, p)...)
	}
	return r
}

// podCheck is the context of one pod's checks.
type podCheck struct {
	s        *Snapshot
	p        *corev1.Pod
	ref      ObjectRef
	owners   []ObjectRef
	workload ObjectRef
	owned    bool // workload is set
}

func checkPod(s *Snapshot, p *corev1.Pod) []Finding {
	if p.Status.Phase == corev1.PodSucceeded || p.DeletionTimestamp != nil {
		return nil
	}
	c := &podCheck{s: s, p: p, ref: refOf("Pod", &p.ObjectMeta), owners: s.owners(&p.ObjectMeta)}
	c.workload, c.owned = workloadOf(c.owners)
	if p.Status.Phase == corev1.PodFailed {
		return c.failed()
	}
	broken := s.brokenRefs(p.Namespace, &p.Spec)
	var out []Finding
	if f, ok := c.unscheduled(); ok {
		out = append(out, f)
	}
	explained := map[string]bool{}
	for _, st := range c.statuses() {
		fs, covers := c.container(st, broken)
		out = append(out, fs...)
		if covers {
			explained[st.status.Name] = true
		}
	}
	// References that no status reports yet: kwok (or a slow kubelet) may
	// show the pod Running, but the next start of the container fails.
	var pending []ConfigRef
	for _, r := range broken {
		if r.Container == "" || !explained[r.Container] {
			pending = append(pending, r)
		}
	}
	if len(pending) > 0 {
		out = append(out, c.missingRefs(pending))
	}
	if len(out) == 0 {
		out = append(out, c.notReady()...)
	}
	return out
}

func (c *podCheck) finding(rule string, sev Severity, key string) Finding {
	return Finding{Rule: rule, Severity: sev, Object: c.ref, Owners: c.owners, mergeKey: key}
}

func (c *podCheck) ns() string { return c.p.Namespace }

// containerStatus is a status with what kind of container it belongs to.
type containerStatus struct {
	status corev1.ContainerStatus
	init   bool
	spec   *corev1.Container
}

func (cs containerStatus) what() string {
	if cs.init {
		return "init container " + cs.status.Name
	}
	return "container " + cs.status.Name
}

func (c *podCheck) statuses() []containerStatus {
	var out []containerStatus
	for _, st := range c.p.Status.InitContainerStatuses {
		out = append(out, containerStatus{status: st, init: true, spec: findContainer(c.p.Spec.InitContainers, st.Name)})
	}
	for _, st := range c.p.Status.ContainerStatuses {
		out = append(out, containerStatus{status: st, spec: findContainer(c.p.Spec.Containers, st.Name)})
	}
	return out
}

func findContainer(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

// container checks one container status. covers reports that the finding
// already explains the container's broken references.
func (c *podCheck) container(cs containerStatus, broken []ConfigRef) (out []Finding, covers bool) {
	st := cs.status
	if w := st.State.Waiting; w != nil {
		switch {
		case w.Reason == "CrashLoopBackOff":
			if lt := st.LastTerminationState.Terminated; lt != nil && lt.Reason == "OOMKilled" {
				return []Finding{c.oomKilled(cs, true)}, false
			}
			return []Finding{c.crashLoop(cs)}, false
		case slices.Contains(imagePullReasons, w.Reason):
			return []Finding{c.imagePull(cs)}, false
		case w.Reason == "CreateContainerConfigError":
			return []Finding{c.configError(cs, broken)}, true
		case slices.Contains(containerErrReason, w.Reason):
			return []Finding{c.containerError(cs)}, false
		case slices.Contains(creatingReasons, w.Reason):
			if f, ok := c.stuckCreating(cs); ok {
				return []Finding{f}, false
			}
		}
		return nil, false
	}
	if cs.init && st.State.Running != nil && !isSidecar(cs.spec) {
		if started := st.State.Running.StartedAt.Time; !started.IsZero() && c.s.Now.Sub(started) > 5*startupGrace {
			return []Finding{c.initRunning(cs, started)}, false
		}
	}
	if st.State.Running != nil && st.RestartCount > 0 {
		if lt := st.LastTerminationState.Terminated; lt != nil && (lt.ExitCode != 0 || lt.Reason == "OOMKilled") &&
			c.s.Now.Sub(lt.FinishedAt.Time) < recentRestart {
			if lt.Reason == "OOMKilled" {
				return []Finding{c.oomKilled(cs, false)}, false
			}
			return []Finding{c.restarting(cs, lt)}, false
		}
	}
	return nil, false
}

func isSidecar(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

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
		code, signal, reason := lt.ExitCode, lt.Signal, cmpOr(lt.Reason, "Error")
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
		Command: fmt.Sprintf("kubectl logs %s -n %s -c %s --previous", c.p.Name, c.ns(), st.Name)}}
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
				Command: fmt.Sprintf("kubectl set resources %s -n %s -c %s --limits=memory=%s", c.workload.kubectlName(), c.workload.Namespace, st.Name, newLimit)})
		} else {
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("Raise the memory limit of %s from %s to %s in the manifest and re-create the pod", cs.what(), limit.String(), newLimit)})
		}
		if rel, relNS, ok := c.s.helmRelease(c.workload); ok && c.owned {
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("The workload comes from Helm release %s: make the change in the chart values (the key depends on the chart, often resources.limits.memory) or it is undone by the next upgrade", rel),
				Command: fmt.Sprintf("helm upgrade %s <chart> -n %s --reuse-values --set resources.limits.memory=%s", rel, relNS, newLimit)})
		}
	} else {
		f.Cause = fmt.Sprintf("The %s has no memory limit and was killed when the node ran out of memory (OOMKilled).", cs.what())
		f.Fixes = append(f.Fixes, Fix{Description: "Give the container a memory request and limit that match what it uses, so the scheduler places it on a node with room"})
	}
	f.Fixes = append(f.Fixes, Fix{Description: "Check the log of the killed run for what used the memory",
		Command: fmt.Sprintf("kubectl logs %s -n %s -c %s --previous", c.p.Name, c.ns(), st.Name)})
	f.logs = &logRequest{namespace: c.ns(), pod: c.p.Name, container: st.Name, previous: true}
	return f
}

func (c *podCheck) restarting(cs containerStatus, lt *corev1.ContainerStateTerminated) Finding {
	st := cs.status
	f := c.finding(RulePodRestarting, Warning, st.Name)
	ago := duration.HumanDuration(c.s.Now.Sub(lt.FinishedAt.Time))
	f.Summary = fmt.Sprintf("%s restarted %s ago after exit code %d (%s); %s in total", cs.what(), ago, lt.ExitCode, cmpOr(lt.Reason, "Error"), plural(int(st.RestartCount), "restart", "restarts"))
	f.Evidence.Status = []string{cs.what() + ": running", "last state: " + describeTermination(lt)}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents, "BackOff", "Unhealthy", "Killing")
	f.Cause = fmt.Sprintf("The %s is running again, but its previous run ended because %s.", cs.what(), exitCause(lt.ExitCode, lt.Reason, lt.Signal))
	f.Fixes = []Fix{{Description: "Read the log of the previous run",
		Command: fmt.Sprintf("kubectl logs %s -n %s -c %s --previous", c.p.Name, c.ns(), st.Name)}}
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
			Command: fmt.Sprintf("kubectl set image %s -n %s %s=<image>:<tag>", c.workload.kubectlName(), c.workload.Namespace, st.Name)})
	} else {
		f.Fixes = append(f.Fixes, Fix{Description: "Fix the image reference in the manifest and re-create the pod"})
	}
	if len(missingPull) > 0 || strings.Contains(f.Cause, "private") {
		name := "regcred"
		if len(missingPull) > 0 {
			name = missingPull[0]
		}
		f.Fixes = append(f.Fixes, Fix{Description: "Create the registry credentials the pod names in imagePullSecrets",
			Command: fmt.Sprintf("kubectl create secret docker-registry %s -n %s --docker-server=<registry> --docker-username=<user> --docker-password=<password>", name, c.ns())})
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
	f.Fixes = []Fix{{Description: "See the runtime's message and the events", Command: fmt.Sprintf("kubectl describe pod %s -n %s", c.p.Name, c.ns())},
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
	f.Fixes = []Fix{{Description: "See the mount and sandbox events", Command: fmt.Sprintf("kubectl describe pod %s -n %s", c.p.Name, c.ns())}}
	return f, true
}

func (c *podCheck) initRunning(cs containerStatus, started time.Time) Finding {
	f := c.finding(RulePodInitContainerRunning, Warning, cs.status.Name)
	f.Summary = fmt.Sprintf("%s has been running for %s; the pod's containers wait for it to finish", cs.what(), duration.HumanDuration(c.s.Now.Sub(started)))
	f.Evidence.Status = []string{cs.what() + ": running", "image: " + cs.status.Image}
	f.Cause = "An init container must finish before the pod's containers start. This one has not: it is usually waiting for something (a database, a Service, a file) that is not there."
	f.Fixes = []Fix{{Description: "See what it is waiting for", Command: fmt.Sprintf("kubectl logs %s -n %s -c %s", c.p.Name, c.ns(), cs.status.Name)}}
	f.logs = &logRequest{namespace: c.ns(), pod: c.p.Name, container: cs.status.Name}
	return f
}

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
	f.Fixes = []Fix{{Description: "See the pod's conditions and events", Command: fmt.Sprintf("kubectl describe pod %s -n %s", c.p.Name, c.ns())}}
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
				Command: fmt.Sprintf("kubectl set resources %s -n %s --requests=%s=%s", c.workload.kubectlName(), c.workload.Namespace, res, target.String())})
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
		f.Fixes = append(f.Fixes, Fix{Description: "Check the pod's claims", Command: fmt.Sprintf("kubectl get pvc -n %s", c.ns())})
	}
	if len(causes) == 0 {
		f.Cause = "The scheduler found no node that satisfies the pod: " + msg
	} else {
		f.Cause = "The scheduler cannot place the pod: " + strings.Join(causes, "; ") + "."
	}
	if len(f.Fixes) == 0 {
		f.Fixes = []Fix{{Description: "See the scheduler's reasons", Command: fmt.Sprintf("kubectl describe pod %s -n %s", c.p.Name, c.ns())}}
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
			{Description: "See what the node is short of", Command: fmt.Sprintf("kubectl describe node %s", p.Spec.NodeName)},
			{Description: "Set requests close to real usage so the pod is not first to go, then delete the evicted pod", Command: fmt.Sprintf("kubectl delete pod %s -n %s", p.Name, p.Namespace)},
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
		f.Summary = fmt.Sprintf("failed: %s exited with code %d (%s)", cs.what(), t.ExitCode, cmpOr(t.Reason, "Error"))
		f.Evidence.Status = []string{"phase: Failed", cs.what() + ": " + describeTermination(t), "image: " + cs.status.Image}
		f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents)
		f.Cause = fmt.Sprintf("The pod ran to an end and failed: %s.", exitCause(t.ExitCode, t.Reason, t.Signal))
		f.Fixes = []Fix{{Description: "Read the failed run's log", Command: fmt.Sprintf("kubectl logs %s -n %s -c %s", p.Name, p.Namespace, cs.status.Name)}}
		switch {
		case c.owned && c.workload.Kind == "CronJob":
			f.Fixes = append(f.Fixes, Fix{Description: "After fixing the cause, run the CronJob once by hand",
				Command: fmt.Sprintf("kubectl create job %s-manual -n %s --from=cronjob/%s", c.workload.Name, c.workload.Namespace, c.workload.Name)})
		case c.owned && c.workload.Kind == "Job":
			f.Fixes = append(f.Fixes, Fix{Description: "After fixing the cause, re-run the Job (a finished Job does not restart)",
				Command: fmt.Sprintf("kubectl delete job %s -n %s && kubectl apply -f <job manifest>", c.workload.Name, c.workload.Namespace)})
		case !c.owned:
			f.Fixes = append(f.Fixes, Fix{Description: "After fixing the cause, re-create the pod",
				Command: fmt.Sprintf("kubectl delete pod %s -n %s && kubectl apply -f <pod manifest>", p.Name, p.Namespace)})
		}
		f.logs = &logRequest{namespace: p.Namespace, pod: p.Name, container: cs.status.Name}
		return []Finding{f}
	}
	f := c.finding(RulePodFailed, sev, "failed:"+p.Status.Reason)
	f.Summary = "failed: " + cmpOr(p.Status.Reason, "no reason given")
	if p.Status.Message != "" {
		f.Summary += ": " + trimLine(p.Status.Message)
	}
	f.Evidence.Status = []string{"phase: Failed, reason: " + cmpOr(p.Status.Reason, "none"), "node: " + p.Spec.NodeName}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents)
	f.Cause = "The pod failed as a whole: " + cmpOr(trimLine(p.Status.Message), "its status gives no message") + "."
	f.Fixes = []Fix{{Description: "See the pod's status and events", Command: fmt.Sprintf("kubectl describe pod %s -n %s", p.Name, p.Namespace)}}
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

// notReady checks a running pod that is not Ready.
func (c *podCheck) notReady() []Finding {
	if c.p.Status.Phase != corev1.PodRunning {
		return nil
	}
	ready := podCondition(c.p, corev1.PodReady)
	if ready == nil || ready.Status == corev1.ConditionTrue {
		return c.livenessFailing()
	}
	var unready []containerStatus
	for _, cs := range c.statuses() {
		if !cs.init && !cs.status.Ready {
			unready = append(unready, cs)
		}
	}
	probes := c.recentEvents("Unhealthy")
	if len(probes) > 0 {
		f := c.finding(RulePodProbeFailing, Warning, "probe")
		f.Summary = "is not Ready: " + probes[0].Message
		f.Evidence.Events = probes
		for _, cs := range unready {
			f.Evidence.Status = append(f.Evidence.Status, cs.what()+": not ready")
			if cs.spec != nil {
				for _, pr := range []struct {
					name string
					p    *corev1.Probe
				}{{"readiness", cs.spec.ReadinessProbe}, {"liveness", cs.spec.LivenessProbe}, {"startup", cs.spec.StartupProbe}} {
					if pr.p != nil {
						f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("%s: %s probe %s", cs.what(), pr.name, describeProbe(pr.p)))
					}
				}
			}
		}
		f.Cause = "A probe of the pod fails, so the pod is taken out of its Services' endpoints (readiness) or restarted (liveness). Either the application is unhealthy or the probe checks the wrong path, port or timing."
		f.Fixes = c.probeFixes(unready)
		return []Finding{f}
	}
	since := ready.LastTransitionTime.Time
	if c.s.Now.Sub(since) < startupGrace {
		return nil
	}
	f := c.finding(RulePodNotReady, Warning, "notready")
	f.Summary = fmt.Sprintf("has not been Ready for %s", duration.HumanDuration(c.s.Now.Sub(since)))
	f.Evidence.Status = []string{fmt.Sprintf("condition Ready=False %s: %s", ready.Reason, trimLine(ready.Message))}
	for _, cs := range unready {
		f.Evidence.Status = append(f.Evidence.Status, cs.what()+": not ready")
	}
	for _, g := range c.p.Spec.ReadinessGates {
		if cond := podCondition(c.p, g.ConditionType); cond == nil || cond.Status != corev1.ConditionTrue {
			f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("readiness gate %s is not True", g.ConditionType))
		}
	}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents)
	f.Cause = "The pod runs but does not become Ready, so its Services send it no traffic."
	f.Fixes = c.probeFixes(unready)
	return []Finding{f}
}

// livenessFailing reports a Ready pod whose liveness or startup probe has
// failed recently: it is about to be restarted.
func (c *podCheck) livenessFailing() []Finding {
	var evs []Event
	for _, e := range c.recentEvents("Unhealthy") {
		if strings.HasPrefix(e.Message, "Liveness") || strings.HasPrefix(e.Message, "Startup") {
			evs = append(evs, e)
		}
	}
	if len(evs) == 0 {
		return nil
	}
	f := c.finding(RulePodProbeFailing, Warning, "probe")
	f.Summary = "probe failing: " + evs[0].Message
	f.Evidence.Events = evs
	f.Cause = "The liveness or startup probe fails; the kubelet restarts the container when it fails often enough in a row."
	f.Fixes = c.probeFixes(nil)
	return []Finding{f}
}

func (c *podCheck) recentEvents(reasons ...string) []Event {
	return slices.DeleteFunc(c.s.eventsOf(c.ref, maxEvents, reasons...), func(e Event) bool {
		return !e.LastSeen.IsZero() && c.s.Now.Sub(e.LastSeen) > recentEvent
	})
}

func (c *podCheck) probeFixes(unready []containerStatus) []Fix {
	var out []Fix
	for _, cs := range unready {
		if cs.spec == nil || cs.spec.ReadinessProbe == nil {
			continue
		}
		if g := cs.spec.ReadinessProbe.HTTPGet; g != nil {
			out = append(out, Fix{Description: fmt.Sprintf("Call the readiness endpoint from inside the pod to see what it answers (%s)", cs.what()),
				Command: fmt.Sprintf("kubectl exec %s -n %s -c %s -- wget -qO- http://localhost:%s%s", c.p.Name, c.ns(), cs.status.Name, g.Port.String(), cmpOr(g.Path, "/"))})
		}
	}
	out = append(out,
		Fix{Description: "See the probe failures and the application's log", Command: fmt.Sprintf("kubectl describe pod %s -n %s && kubectl logs %s -n %s", c.p.Name, c.ns(), c.p.Name, c.ns())},
		Fix{Description: "If the application only needs longer to start, raise the probe's initialDelaySeconds or failureThreshold, or add a startupProbe"})
	return out
}

func describeProbe(p *corev1.Probe) string {
	var what string
	switch {
	case p.HTTPGet != nil:
		what = fmt.Sprintf("HTTP GET :%s%s", p.HTTPGet.Port.String(), cmpOr(p.HTTPGet.Path, "/"))
	case p.TCPSocket != nil:
		what = "TCP :" + p.TCPSocket.Port.String()
	case p.GRPC != nil:
		what = fmt.Sprintf("gRPC :%d", p.GRPC.Port)
	case p.Exec != nil:
		what = "exec " + cut(strings.Join(p.Exec.Command, " "), 80)
	default:
		what = "(no handler)"
	}
	return fmt.Sprintf("%s, delay %ds, period %ds, timeout %ds, failure threshold %d", what,
		p.InitialDelaySeconds, max(p.PeriodSeconds, 10), max(p.TimeoutSeconds, 1), max(p.FailureThreshold, 3))
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
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

func containsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(x string) bool { return strings.Contains(s, x) })
}

// podFailing is a quick test of whether a pod has a problem of its own, used
// by the workload analyzers to report an unavailable workload at once
// instead of after the grace period.
func podFailing(s *Snapshot, p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded {
		return false
	}
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	if cond := podCondition(p, corev1.PodScheduled); cond != nil && cond.Reason == corev1.PodReasonUnschedulable {
		return true
	}
	for _, st := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
		if w := st.State.Waiting; w != nil && w.Reason != "" && !slices.Contains(creatingReasons, w.Reason) {
			return true
		}
	}
	if ready := podCondition(p, corev1.PodReady); p.Status.Phase == corev1.PodRunning && ready != nil && ready.Status != corev1.ConditionTrue {
		return len(s.eventsOf(refOf("Pod", &p.ObjectMeta), 1, "Unhealthy")) > 0 || s.Now.Sub(ready.LastTransitionTime.Time) > startupGrace
	}
	return len(s.brokenRefs(p.Namespace, &p.Spec)) > 0
}

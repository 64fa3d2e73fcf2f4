package diagnose

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
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
	// A settled pod has nothing to report but references that broke since
	// it started (the kubelet shows it Running until the next start fails).
	for i := range s.settled {
		sp := &s.settled[i]
		k := sp.class
		if !s.inScopeAt(k.namespace, k.labels) {
			continue
		}
		r.Checked++
		if k.phase == corev1.PodRunning && k.shape.refs && len(s.brokenRefs(k.namespace, &k.shape.spec)) > 0 {
			r.Findings = append(r.Findings, checkPod(s, sp.pod())...)
		}
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

package diagnose

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/utils/ptr"
)

// Building the report: the object's state, owners, pods, rollout, config
// references and events, and the root cause among its findings.

// explain builds the report for target from the snapshot and the findings
// of every analyzer.
func (s *Snapshot) explain(target ObjectRef, all []Finding) *ExplainReport {
	rep := &ExplainReport{APIVersion: APIVersion, Kind: KindExplainReport, Target: target, Findings: []Finding{}}
	var meta *metav1.ObjectMeta
	var pods []*corev1.Pod
	var template *corev1.PodSpec
	var deployment *appsv1.Deployment
	related := map[types.UID]bool{target.UID: true}
	switch target.Kind {
	case "Pod":
		for i := range s.Pods {
			if p := &s.Pods[i]; p.UID == target.UID {
				meta, pods, template = &p.ObjectMeta, []*corev1.Pod{p}, &p.Spec
			}
		}
	case "Deployment":
		for i := range s.Deployments {
			if d := &s.Deployments[i]; d.UID == target.UID {
				meta, template, deployment = &d.ObjectMeta, &d.Spec.Template.Spec, d
				pods = s.deploymentPods(d.UID)
				for _, rs := range s.rsByOwner[d.UID] {
					related[rs.UID] = true
				}
				rep.Status = append(rep.Status, fmt.Sprintf("replicas: %d desired, %d updated, %d ready, %d available",
					ptr.Deref(d.Spec.Replicas, 1), d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas))
				for _, c := range d.Status.Conditions {
					rep.Status = append(rep.Status, fmt.Sprintf("condition %s=%s %s: %s", c.Type, c.Status, c.Reason, trimLine(c.Message)))
				}
			}
		}
	case "StatefulSet":
		for i := range s.StatefulSets {
			if w := &s.StatefulSets[i]; w.UID == target.UID {
				meta, template, pods = &w.ObjectMeta, &w.Spec.Template.Spec, s.podsOf(w.UID)
				rep.Status = append(rep.Status, fmt.Sprintf("replicas: %d desired, %d ready, %d available", ptr.Deref(w.Spec.Replicas, 1), w.Status.ReadyReplicas, w.Status.AvailableReplicas))
			}
		}
	case "DaemonSet":
		for i := range s.DaemonSets {
			if w := &s.DaemonSets[i]; w.UID == target.UID {
				meta, template, pods = &w.ObjectMeta, &w.Spec.Template.Spec, s.podsOf(w.UID)
				rep.Status = append(rep.Status, fmt.Sprintf("pods: %d desired, %d ready, %d available", w.Status.DesiredNumberScheduled, w.Status.NumberReady, w.Status.NumberAvailable))
			}
		}
	case "ReplicaSet":
		for i := range s.ReplicaSets {
			if w := &s.ReplicaSets[i]; w.UID == target.UID {
				meta, template, pods = &w.ObjectMeta, &w.Spec.Template.Spec, s.podsOf(w.UID)
				rep.Status = append(rep.Status, fmt.Sprintf("replicas: %d desired, %d ready", ptr.Deref(w.Spec.Replicas, 1), w.Status.ReadyReplicas))
			}
		}
	case "Job":
		for i := range s.Jobs {
			if j := &s.Jobs[i]; j.UID == target.UID {
				meta, template, pods = &j.ObjectMeta, &j.Spec.Template.Spec, s.podsOf(j.UID)
				rep.Status = append(rep.Status, fmt.Sprintf("pods: %d active, %d succeeded, %d failed", j.Status.Active, j.Status.Succeeded, j.Status.Failed))
				for _, c := range j.Status.Conditions {
					rep.Status = append(rep.Status, fmt.Sprintf("condition %s=%s %s: %s", c.Type, c.Status, c.Reason, trimLine(c.Message)))
				}
			}
		}
	case "CronJob":
		for i := range s.CronJobs {
			if cj := &s.CronJobs[i]; cj.UID == target.UID {
				meta, template = &cj.ObjectMeta, &cj.Spec.JobTemplate.Spec.Template.Spec
				rep.Status = append(rep.Status, "schedule: "+cj.Spec.Schedule, fmt.Sprintf("suspended: %t, active jobs: %d", ptr.Deref(cj.Spec.Suspend, false), len(cj.Status.Active)))
				for _, j := range s.jobsByOwner[cj.UID] {
					related[j.UID] = true
					pods = append(pods, s.podsOf(j.UID)...)
				}
			}
		}
	}
	if meta == nil {
		rep.Status = append(rep.Status, "not found in the snapshot")
		rep.Healthy = true
		return rep
	}
	rep.Owners = s.owners(meta)
	for _, o := range rep.Owners {
		related[o.UID] = true
		if o.Kind == "Deployment" && deployment == nil {
			for i := range s.Deployments {
				if s.Deployments[i].UID == o.UID {
					deployment = &s.Deployments[i]
				}
			}
		}
	}
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		fa, fb := podFailing(s, a), podFailing(s, b)
		if fa != fb {
			if fa {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	podUIDs := map[types.UID]bool{}
	for i, p := range pods {
		podUIDs[p.UID] = true
		if i < maxExplainPods {
			rep.Pods = append(rep.Pods, s.podInfo(p))
		}
	}
	if target.Kind != "Pod" {
		rep.Status = append(rep.Status, fmt.Sprintf("pods: %d", len(pods)))
	} else if len(rep.Pods) == 1 {
		p := rep.Pods[0]
		rep.Status = append(rep.Status, fmt.Sprintf("phase %s, ready %s, %s, node %s", p.Phase, p.Ready, plural(int(p.Restarts), "restart", "restarts"), cmp.Or(p.Node, "none")))
	}
	if template != nil {
		rep.Config = s.checkRefs(target.Namespace, podSpecRefs(template))
	}
	if deployment != nil {
		rep.Rollout = s.rollout(deployment)
	}
	// Findings about the target, its owners or its pods.
	var mine []Finding
	for _, f := range all {
		if related[f.Object.UID] || podUIDs[f.Object.UID] {
			mine = append(mine, f)
		}
	}
	for _, g := range groupFindings(mine, target.Kind != "Pod") {
		rep.Findings = append(rep.Findings, g.Findings...)
	}
	slices.SortStableFunc(rep.Findings, func(a, b Finding) int { return cmp.Compare(a.Severity.rank(), b.Severity.rank()) })
	// Events of everything related (each object once), newest first.
	refs := map[types.UID]ObjectRef{target.UID: target}
	for uid := range related {
		if info, ok := s.objects[uid]; ok {
			refs[uid] = info.ref
		}
	}
	for _, p := range pods {
		refs[p.UID] = refOf("Pod", &p.ObjectMeta)
	}
	var evs []Event
	for _, ref := range refs {
		evs = append(evs, labelled(s.eventsOf(ref, 0), ref)...)
	}
	slices.SortStableFunc(evs, func(a, b Event) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(a.Object, b.Object), cmp.Compare(a.Reason, b.Reason))
	})
	if len(evs) > maxExplainEvents {
		evs = evs[:maxExplainEvents]
	}
	rep.Events = evs
	rep.Healthy = len(rep.Findings) == 0
	if rep.Healthy {
		rep.Cause = fmt.Sprintf("No problem found: %s looks healthy.", target.kubectlName())
	} else {
		root := rootCause(rep.Findings)
		rep.Cause, rep.Fixes = root.Cause, root.Fixes
	}
	return rep
}

// causeOrder ranks rules by how close they are to a root cause: a missing
// Secret or image explains a crash loop, which explains an unavailable
// Deployment. Rules not listed come after the listed ones.
var causeOrder = []string{
	RulePodCreateContainerConfig, RulePodMissingReference, RulePodImagePullError, RulePodUnschedulable,
	RulePodInitContainerFailed, RulePodOOMKilled, RulePodCrashLoopBackOff, RulePodContainerError,
	RuleReplicaSetFailedCreate, RulePodFailed, RulePodProbeFailing, RulePodStuckCreating,
}

// aggregateRules only summarise their pods' problems.
var aggregateRules = []string{RuleDeploymentUnavailable, RuleStatefulSetUnavailable, RuleDaemonSetUnavailable, RuleServiceNoReadyEndpoints}

// rootCause picks the finding whose cause and fix explain the others: the
// most severe, and among those the closest to a root cause.
func rootCause(fs []Finding) Finding {
	rank := func(f Finding) int {
		if i := slices.Index(causeOrder, f.Rule); i >= 0 {
			return i
		}
		if slices.Contains(aggregateRules, f.Rule) {
			return len(causeOrder) + 1
		}
		return len(causeOrder)
	}
	best := fs[0]
	for _, f := range fs[1:] {
		if c := cmp.Or(cmp.Compare(f.Severity.rank(), best.Severity.rank()), cmp.Compare(rank(f), rank(best))); c < 0 {
			best = f
		}
	}
	return best
}

func labelled(evs []Event, ref ObjectRef) []Event {
	for i := range evs {
		evs[i].Object = ref.kubectlName()
	}
	return evs
}

func (s *Snapshot) podInfo(p *corev1.Pod) PodInfo {
	info := PodInfo{Name: p.Name, Phase: string(p.Status.Phase), Node: p.Spec.NodeName, Age: humanAge(s.Now, p.CreationTimestamp.Time)}
	ready := 0
	add := func(st corev1.ContainerStatus, init bool) {
		ci := ContainerInfo{Name: st.Name, Init: init, Image: st.Image, Ready: st.Ready, Restarts: st.RestartCount, State: describeState(st.State)}
		if lt := st.LastTerminationState.Terminated; lt != nil {
			ci.LastState = describeTermination(lt)
		}
		info.Restarts += st.RestartCount
		info.Containers = append(info.Containers, ci)
	}
	for _, st := range p.Status.InitContainerStatuses {
		add(st, true)
	}
	for _, st := range p.Status.ContainerStatuses {
		add(st, false)
		if st.Ready {
			ready++
		}
	}
	if len(p.Status.ContainerStatuses) == 0 {
		for _, c := range p.Spec.Containers {
			info.Containers = append(info.Containers, ContainerInfo{Name: c.Name, Image: c.Image, State: "not started"})
		}
	}
	info.Ready = fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers))
	return info
}

func describeState(st corev1.ContainerState) string {
	switch {
	case st.Waiting != nil:
		if st.Waiting.Message != "" {
			return "waiting: " + st.Waiting.Reason + ": " + trimLine(st.Waiting.Message)
		}
		return "waiting: " + st.Waiting.Reason
	case st.Running != nil:
		return "running"
	case st.Terminated != nil:
		return describeTermination(st.Terminated)
	}
	return "unknown"
}

func humanAge(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return duration.HumanDuration(now.Sub(t))
}

// rollout lists a Deployment's revisions, newest first.
func (s *Snapshot) rollout(d *appsv1.Deployment) []Revision {
	rss := slices.Clone(s.rsByOwner[d.UID])
	slices.SortFunc(rss, func(a, b *appsv1.ReplicaSet) int { return cmp.Compare(rsRevision(b), rsRevision(a)) })
	var out []Revision
	for i, rs := range rss {
		if i == maxExplainRevs {
			break
		}
		var images []string
		for _, c := range slices.Concat(rs.Spec.Template.Spec.InitContainers, rs.Spec.Template.Spec.Containers) {
			images = append(images, c.Name+"="+c.Image)
		}
		out = append(out, Revision{Revision: rsRevision(rs), ReplicaSet: rs.Name, Images: images,
			Replicas: rs.Status.Replicas, Ready: rs.Status.ReadyReplicas, Created: rs.CreationTimestamp.UTC(), Current: i == 0})
	}
	return out
}

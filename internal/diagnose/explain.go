package diagnose

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/tools"
)

// Bounds of one explanation.
const (
	maxExplainPods     = 10
	maxExplainEvents   = 20
	maxExplainLogs     = 5
	maxExplainRevs     = 10
	maxExplainFailing  = 20
	explainLogsPerPods = 30
)

// ExplainOptions name what to explain.
type ExplainOptions struct {
	Namespace string
	// Name of a pod or workload; "deployment/backend" and short names
	// ("backend" for todo-backend) work.
	Name string
	// Kind, optional: pod, deployment, statefulset, daemonset, job, cronjob
	// or replicaset (kubectl's short names work too).
	Kind string
	Logs LogOptions
	Now  time.Time
}

// ExplainReport is everything about why one workload or pod fails.
type ExplainReport struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Target     ObjectRef   `json:"target"`
	Owners     []ObjectRef `json:"owners,omitempty"`
	// Healthy is true when no finding concerns the target.
	Healthy bool `json:"healthy"`
	// Status summarises the target's state, one fact per line.
	Status []string `json:"status"`
	// Pods are the target's pods (the failing ones first), or the pod itself.
	Pods []PodInfo `json:"pods,omitempty"`
	// Config is every Secret and ConfigMap the pod template references.
	Config []ConfigRef `json:"config,omitempty"`
	// Rollout lists a Deployment's revisions (its ReplicaSets), newest first.
	Rollout []Revision `json:"rollout,omitempty"`
	// Events of the target, its owners and its pods, newest first.
	Events []Event `json:"events,omitempty"`
	// Logs of the failing containers (the previous run after a crash).
	Logs     []LogExcerpt `json:"logs,omitempty"`
	Findings []Finding    `json:"findings"`
	// Cause and Fixes are those of the most severe finding.
	Cause string `json:"cause"`
	Fixes []Fix  `json:"fixes,omitempty"`
}

// ExplainList explains every failing pod of a namespace.
type ExplainList struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Namespace  string          `json:"namespace"`
	Healthy    bool            `json:"healthy"`
	Items      []ExplainReport `json:"items"`
	// Omitted counts failing pods left out (more than 20).
	Omitted int `json:"omitted,omitempty"`
}

// PodInfo is one pod, as `kubectl get pod` and describe would show it.
type PodInfo struct {
	Name       string          `json:"name"`
	Phase      string          `json:"phase"`
	Ready      string          `json:"ready"`
	Restarts   int32           `json:"restarts"`
	Node       string          `json:"node,omitempty"`
	Age        string          `json:"age"`
	Containers []ContainerInfo `json:"containers"`
}

// ContainerInfo is one container's state.
type ContainerInfo struct {
	Name      string `json:"name"`
	Init      bool   `json:"init,omitempty"`
	Image     string `json:"image"`
	Ready     bool   `json:"ready"`
	Restarts  int32  `json:"restarts"`
	State     string `json:"state"`
	LastState string `json:"lastState,omitempty"`
}

// Revision is one Deployment revision.
type Revision struct {
	Revision   int       `json:"revision"`
	ReplicaSet string    `json:"replicaSet"`
	Images     []string  `json:"images"`
	Replicas   int32     `json:"replicas"`
	Ready      int32     `json:"ready"`
	Created    time.Time `json:"created"`
	Current    bool      `json:"current,omitempty"`
}

// explainKinds are the kinds explain resolves, by alias.
var explainKinds = []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet"}

func (o ExplainOptions) scope() (scope, error) {
	if o.Namespace == "" {
		return scope{}, fmt.Errorf("%w: a namespace is required", ErrInvalidOptions)
	}
	if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
		return scope{}, fmt.Errorf("%w: namespace %q: %s", ErrInvalidOptions, o.Namespace, strings.Join(errs, "; "))
	}
	return scope{namespace: o.Namespace, includeSystem: true, allEvents: true}, nil
}

// explainNeeds is what explain lists: everything a namespace-scoped
// diagnosis reads.
func explainNeeds() []Resource {
	seen := map[Resource]bool{}
	var out []Resource
	for _, a := range Analyzers() {
		for _, r := range a.Needs() {
			if !seen[r] && r != ResNodes {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// Explain gathers everything about why one pod or workload fails: status,
// events, the previous log of failing containers, config references, owner
// chain and rollout history, then the cause and the fix. An unknown or
// ambiguous name is an error wrapping tools.ErrNotFound or
// tools.ErrAmbiguous that lists the candidates.
func (d *Diagnoser) Explain(ctx context.Context, o ExplainOptions) (*ExplainReport, error) {
	sc, err := o.scope()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(o.Name) == "" {
		return nil, fmt.Errorf("%w: a name is required", ErrInvalidOptions)
	}
	s, _, err := collect(ctx, d.client, sc, explainNeeds(), nowOr(o.Now))
	if err != nil {
		return nil, fmt.Errorf("read namespace %s: %w", o.Namespace, err)
	}
	target, err := s.resolve(o.Name, o.Kind)
	if err != nil {
		return nil, err
	}
	findings := s.allFindings()
	rep := s.explain(target, findings)
	lo := o.Logs.withDefaults()
	if !o.Logs.Disabled {
		attachExplainLogs(ctx, d.client, s.redactor, []*ExplainReport{rep}, lo)
	}
	redactExplain(s.redactor, rep)
	return rep, nil
}

// ExplainFailing explains every failing pod in a namespace (at most 20).
func (d *Diagnoser) ExplainFailing(ctx context.Context, o ExplainOptions) (*ExplainList, error) {
	sc, err := o.scope()
	if err != nil {
		return nil, err
	}
	s, _, err := collect(ctx, d.client, sc, explainNeeds(), nowOr(o.Now))
	if err != nil {
		return nil, fmt.Errorf("read namespace %s: %w", o.Namespace, err)
	}
	findings := s.allFindings()
	list := &ExplainList{APIVersion: APIVersion, Kind: KindExplainList, Namespace: o.Namespace, Items: []ExplainReport{}}
	seen := map[types.UID]bool{}
	var pods []ObjectRef
	for _, f := range findings {
		if f.Object.Kind == "Pod" && !seen[f.Object.UID] {
			seen[f.Object.UID] = true
			pods = append(pods, f.Object)
		}
	}
	slices.SortFunc(pods, func(a, b ObjectRef) int { return cmp.Compare(a.Name, b.Name) })
	if len(pods) > maxExplainFailing {
		list.Omitted = len(pods) - maxExplainFailing
		pods = pods[:maxExplainFailing]
	}
	reps := make([]*ExplainReport, len(pods))
	for i, p := range pods {
		reps[i] = s.explain(p, findings)
	}
	if !o.Logs.Disabled {
		lo := o.Logs.withDefaults()
		lo.MaxFetches = explainLogsPerPods
		attachExplainLogs(ctx, d.client, s.redactor, reps, lo)
	}
	for _, r := range reps {
		redactExplain(s.redactor, r)
		list.Items = append(list.Items, *r)
	}
	list.Healthy = len(list.Items) == 0
	return list, nil
}

func nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// allFindings runs every analyzer on the snapshot, without folding.
func (s *Snapshot) allFindings() []Finding {
	var out []Finding
	for _, a := range Analyzers() {
		out = append(out, a.Analyze(s).Findings...)
	}
	return out
}

// resolve finds the object name refers to in the snapshot's namespace.
func (s *Snapshot) resolve(name, kind string) (ObjectRef, error) {
	name = strings.TrimSpace(name)
	if k, n, ok := strings.Cut(name, "/"); ok {
		if kind != "" && !strings.EqualFold(canonicalKind(kind), canonicalKind(k)) {
			return ObjectRef{}, fmt.Errorf("%w: name %q says %s but kind is %s", tools.ErrInvalidArgs, name, k, kind)
		}
		kind, name = k, n
	}
	kinds := explainKinds
	if kind != "" {
		k, err := ParseExplainKind(kind)
		if err != nil {
			return ObjectRef{}, fmt.Errorf("%w: %v", tools.ErrInvalidArgs, err)
		}
		kinds = []string{k}
	}
	cands := s.candidates(kinds)
	q := strings.ToLower(name)
	pick := func(match func(candidate) bool) []candidate {
		return slices.DeleteFunc(slices.Clone(cands), func(c candidate) bool { return !match(c) })
	}
	where := "namespace " + s.scope.namespace
	if exact := pick(func(c candidate) bool { return c.ref.Name == q }); len(exact) == 1 {
		return exact[0].ref, nil
	} else if len(exact) > 1 {
		return ObjectRef{}, fmt.Errorf("%w: %q names %s in %s; give the kind, e.g. %s", tools.ErrAmbiguous, name, listCands(exact), where, exact[0].ref.kubectlName())
	}
	loose := func(c candidate) bool {
		if nameMatches(q, c.ref.Name) {
			return true
		}
		for _, l := range []string{"app.kubernetes.io/component", "app.kubernetes.io/name", "app"} {
			if c.labels[l] == q {
				return true
			}
		}
		return false
	}
	if ws := pick(func(c candidate) bool {
		return c.ref.Kind != "Pod" && c.ref.Kind != "ReplicaSet" && !c.child && loose(c)
	}); len(ws) == 1 {
		return ws[0].ref, nil
	} else if len(ws) > 1 {
		return ObjectRef{}, fmt.Errorf("%w: %q matches %s in %s; use the exact name", tools.ErrAmbiguous, name, listCands(ws), where)
	}
	if ps := pick(func(c candidate) bool { return (c.ref.Kind == "Pod" || c.ref.Kind == "ReplicaSet") && loose(c) }); len(ps) == 1 {
		return ps[0].ref, nil
	} else if len(ps) > 1 {
		return ObjectRef{}, fmt.Errorf("%w: %q matches %s in %s; use the exact name", tools.ErrAmbiguous, name, listCands(ps), where)
	}
	var workloads []candidate
	for _, c := range cands {
		if c.ref.Kind != "Pod" && c.ref.Kind != "ReplicaSet" && !c.child {
			workloads = append(workloads, c)
		}
	}
	if len(workloads) == 0 {
		return ObjectRef{}, fmt.Errorf("%w: no pod or workload named %q in %s, which has no workloads", tools.ErrNotFound, name, where)
	}
	return ObjectRef{}, fmt.Errorf("%w: no pod or workload named %q in %s; the workloads there are: %s", tools.ErrNotFound, name, where, listCands(workloads))
}

type candidate struct {
	ref    ObjectRef
	labels map[string]string
	// child is set for objects owned by another workload (a CronJob's Jobs).
	child bool
}

func (s *Snapshot) candidates(kinds []string) []candidate {
	var out []candidate
	add := func(kind string, m *metav1.ObjectMeta) {
		if slices.Contains(kinds, kind) {
			out = append(out, candidate{ref: refOf(kind, m), labels: m.Labels, child: metav1.GetControllerOfNoCopy(m) != nil})
		}
	}
	for i := range s.Deployments {
		add("Deployment", &s.Deployments[i].ObjectMeta)
	}
	for i := range s.StatefulSets {
		add("StatefulSet", &s.StatefulSets[i].ObjectMeta)
	}
	for i := range s.DaemonSets {
		add("DaemonSet", &s.DaemonSets[i].ObjectMeta)
	}
	for i := range s.CronJobs {
		add("CronJob", &s.CronJobs[i].ObjectMeta)
	}
	for i := range s.Jobs {
		add("Job", &s.Jobs[i].ObjectMeta)
	}
	for i := range s.ReplicaSets {
		add("ReplicaSet", &s.ReplicaSets[i].ObjectMeta)
	}
	for i := range s.Pods {
		add("Pod", &s.Pods[i].ObjectMeta)
	}
	return out
}

// ParseExplainKind checks a kind explain can work on ("deploy", "pods",
// "StatefulSet") and returns its canonical name.
func ParseExplainKind(k string) (string, error) {
	c := canonicalKind(k)
	if !slices.Contains(explainKinds, c) {
		return "", fmt.Errorf("explain works on %s, not %q", strings.ToLower(strings.Join(explainKinds, ", ")), k)
	}
	return c, nil
}

func canonicalKind(k string) string {
	if c, ok := kindAliases[strings.ToLower(strings.TrimSpace(k))]; ok {
		return c
	}
	return k
}

func listCands(cs []candidate) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.ref.kubectlName()
	}
	return quoteList(names, 15)
}

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
					ptrOr(d.Spec.Replicas, 1), d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas))
				for _, c := range d.Status.Conditions {
					rep.Status = append(rep.Status, fmt.Sprintf("condition %s=%s %s: %s", c.Type, c.Status, c.Reason, trimLine(c.Message)))
				}
			}
		}
	case "StatefulSet":
		for i := range s.StatefulSets {
			if w := &s.StatefulSets[i]; w.UID == target.UID {
				meta, template, pods = &w.ObjectMeta, &w.Spec.Template.Spec, s.podsOf(w.UID)
				rep.Status = append(rep.Status, fmt.Sprintf("replicas: %d desired, %d ready, %d available", ptrOr(w.Spec.Replicas, 1), w.Status.ReadyReplicas, w.Status.AvailableReplicas))
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
				rep.Status = append(rep.Status, fmt.Sprintf("replicas: %d desired, %d ready", ptrOr(w.Spec.Replicas, 1), w.Status.ReadyReplicas))
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
				rep.Status = append(rep.Status, "schedule: "+cj.Spec.Schedule, fmt.Sprintf("suspended: %t, active jobs: %d", ptrOr(cj.Spec.Suspend, false), len(cj.Status.Active)))
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
		rep.Status = append(rep.Status, fmt.Sprintf("phase %s, ready %s, %s, node %s", p.Phase, p.Ready, plural(int(p.Restarts), "restart", "restarts"), cmpOr(p.Node, "none")))
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

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
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

// attachExplainLogs reads the logs the reports' findings ask for, redacted.
func attachExplainLogs(ctx context.Context, client kubernetes.Interface, red *redact.Redactor, reps []*ExplainReport, o LogOptions) {
	var todo []*Finding
	for _, r := range reps {
		n := 0
		for i := range r.Findings {
			if f := &r.Findings[i]; f.logs != nil && n < maxExplainLogs && len(todo) < o.MaxFetches {
				todo = append(todo, f)
				n++
			}
		}
	}
	attachLogs(ctx, client, red, todo, o)
	for _, r := range reps {
		for _, f := range r.Findings {
			if f.Evidence.Logs != nil {
				r.Logs = append(r.Logs, *f.Evidence.Logs)
			}
		}
	}
}

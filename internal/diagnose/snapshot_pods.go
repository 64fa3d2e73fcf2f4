package diagnose

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Settled pods. Most of a big cluster is pods that run, are Ready and have
// not restarted lately, and no rule reports one of them: they count (a
// Service's endpoints, a node's pods, a workload's replicas) and their
// Secret and ConfigMap references are checked, nothing more. Kept whole,
// each cost about 6 KiB once decoded, so a diagnosis's memory grew with the
// cluster's pod count. A snapshot keeps such a pod as a settledPod instead:
// its name, UID and creation time, and a pointer to what it shares with its
// siblings (namespace, node, labels, owner, and the shape of its containers:
// names, images, ports and references), about 100 bytes. Every other pod
// stays whole in Snapshot.Pods.
//
// An analyzer that wants a *corev1.Pod of a settled pod gets one built from
// the record (pod): it holds what the analyzers read of a settled pod — not
// its start times, restart counts or resources — so explain, which shows
// those, keeps every pod whole (scope.wholePods).

// settledPod is what a snapshot keeps of a settled pod.
type settledPod struct {
	name    string
	uid     types.UID
	created metav1.Time
	class   *podClass
}

// podClass is what settled pods share: pods of one ReplicaSet on one node
// have one class.
type podClass struct {
	namespace string
	node      string
	phase     corev1.PodPhase // Running or Succeeded
	labels    map[string]string
	owners    []metav1.OwnerReference
	shape     *podShape
}

// podShape is the part of a pod spec the analyzers read of a settled pod:
// containers' names, images and ports (a Service's targetPort), and the
// Secret and ConfigMap references (a pod the kubelet shows Running may
// still reference a Secret deleted since).
type podShape struct {
	spec     corev1.PodSpec
	statuses []corev1.ContainerStatus // one per container: running and Ready
	refs     bool                     // spec references a Secret or ConfigMap
}

// readyConditions are the conditions of a running settled pod as built.
var readyConditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}

// settled reports whether p is a pod no rule reports at now: Succeeded, or
// Running and Ready with every container running and Ready, no container
// terminated within recentRestart, and init containers that all completed
// (a pod with a sidecar stays whole). Being deleted, it is not settled.
func settled(p *corev1.Pod, now time.Time) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return true
	case corev1.PodRunning:
	default:
		return false
	}
	if c := podCondition(p, corev1.PodReady); c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	if len(p.Spec.Containers) == 0 || len(p.Status.ContainerStatuses) != len(p.Spec.Containers) ||
		len(p.Status.InitContainerStatuses) != len(p.Spec.InitContainers) {
		return false
	}
	for _, st := range p.Status.ContainerStatuses {
		if !st.Ready || st.State.Running == nil || findContainer(p.Spec.Containers, st.Name) == nil {
			return false
		}
		if lt := st.LastTerminationState.Terminated; lt != nil && now.Sub(lt.FinishedAt.Time) < recentRestart {
			return false
		}
	}
	for _, st := range p.Status.InitContainerStatuses {
		if t := st.State.Terminated; t == nil || t.ExitCode != 0 {
			return false
		}
	}
	return true
}

// addPod keeps a listed pod: settled ones as records, others whole. p is
// not written to and not kept (it may be an informer's cached object).
func (s *Snapshot) addPod(p *corev1.Pod) {
	if !s.scope.wholePods && settled(p, s.Now) {
		if s.interned == nil {
			s.interned = newPodInterner()
		}
		s.settled = append(s.settled, settledPod{name: p.Name, uid: p.UID, created: p.CreationTimestamp, class: s.interned.class(p)})
		return
	}
	s.Pods = append(s.Pods, *p)
	slimMeta(&s.Pods[len(s.Pods)-1])
}

// pod builds a pod of the record: what the analyzers read of a settled pod.
// Its slices are shared with its class's other pods: read-only.
func (sp *settledPod) pod() *corev1.Pod {
	k := sp.class
	p := &corev1.Pod{
		ObjectMeta: sp.meta(),
		Spec:       k.shape.spec,
		Status:     corev1.PodStatus{Phase: k.phase},
	}
	p.Spec.NodeName = k.node
	if k.phase == corev1.PodRunning {
		p.Status.Conditions = readyConditions
		p.Status.ContainerStatuses = k.shape.statuses
	}
	return p
}

func (sp *settledPod) meta() metav1.ObjectMeta {
	k := sp.class
	return metav1.ObjectMeta{Name: sp.name, Namespace: k.namespace, UID: sp.uid, CreationTimestamp: sp.created, Labels: k.labels, OwnerReferences: k.owners}
}

// settledPods builds pods of records.
func settledPods(sps []*settledPod) []*corev1.Pod {
	out := make([]*corev1.Pod, len(sps))
	for i, sp := range sps {
		out[i] = sp.pod()
	}
	return out
}

// podInterner hands out one copy of each class, shape, label set and owner
// list while a snapshot is filled.
type podInterner struct {
	strings map[string]string
	labels  map[string]map[string]string
	owners  map[string][]metav1.OwnerReference
	shapes  map[string]*podShape
	classes map[classKey]*podClass
	key     []byte // scratch
}

// classKey identifies a class: label sets and owner lists by their
// interned keys.
type classKey struct {
	namespace, node string
	phase           corev1.PodPhase
	labels, owners  string
	shape           *podShape
}

func newPodInterner() *podInterner {
	return &podInterner{
		strings: map[string]string{},
		labels:  map[string]map[string]string{},
		owners:  map[string][]metav1.OwnerReference{},
		shapes:  map[string]*podShape{},
		classes: map[classKey]*podClass{},
	}
}

func (in *podInterner) class(p *corev1.Pod) *podClass {
	labels, lk := in.labelSet(p.Labels)
	owners, ok := in.ownerList(p.OwnerReferences)
	k := classKey{namespace: in.str(p.Namespace), node: in.str(p.Spec.NodeName), phase: p.Status.Phase, labels: lk, owners: ok, shape: in.shape(p)}
	c, found := in.classes[k]
	if !found {
		c = &podClass{namespace: k.namespace, node: k.node, phase: k.phase, labels: labels, owners: owners, shape: k.shape}
		in.classes[k] = c
	}
	return c
}

func (in *podInterner) str(s string) string {
	if v, ok := in.strings[s]; ok {
		return v
	}
	in.strings[s] = s
	return s
}

// labelKey is a label set as one string, keys sorted.
func (in *podInterner) labelKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	in.key = in.key[:0]
	for _, k := range keys {
		in.key = append(append(append(append(in.key, k...), 0), m[k]...), 0)
	}
	return string(in.key)
}

// labelSet returns the interned copy of m and its key.
func (in *podInterner) labelSet(m map[string]string) (map[string]string, string) {
	if len(m) == 0 {
		return nil, ""
	}
	key := in.labelKey(m)
	if v, ok := in.labels[key]; ok {
		return v, key
	}
	in.labels[key] = m
	return m, key
}

// ownerList returns the interned copy of refs and its key.
func (in *podInterner) ownerList(refs []metav1.OwnerReference) ([]metav1.OwnerReference, string) {
	if len(refs) == 0 {
		return nil, ""
	}
	var b strings.Builder
	for _, r := range refs {
		b.WriteString(r.APIVersion)
		b.WriteByte(0)
		b.WriteString(r.Kind)
		b.WriteByte(0)
		b.WriteString(r.Name)
		b.WriteByte(0)
		b.WriteString(string(r.UID))
		if r.Controller != nil && *r.Controller {
			b.WriteString("\x00c")
		}
		if r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion {
			b.WriteString("\x00b")
		}
		b.WriteByte(1)
	}
	key := b.String()
	if v, ok := in.owners[key]; ok {
		return v, key
	}
	in.owners[key] = refs
	return refs, key
}

// shape interns the part of p's spec the analyzers read of a settled pod.
// Its key is the reduced spec's protobuf encoding: every field kept is in
// the key, so two pods share a shape only if the analyzers could not tell
// them apart.
func (in *podInterner) shape(p *corev1.Pod) *podShape {
	spec := reducedSpec(&p.Spec)
	b, err := spec.Marshal()
	if err != nil {
		// Not expected for a decoded object; keep an unshared shape.
		return newShape(spec)
	}
	if sh, ok := in.shapes[string(b)]; ok {
		return sh
	}
	sh := newShape(spec)
	in.shapes[string(b)] = sh
	return sh
}

func newShape(spec corev1.PodSpec) *podShape {
	sh := &podShape{spec: spec, refs: len(podSpecRefs(&spec)) > 0}
	started := true
	for _, c := range spec.Containers {
		sh.statuses = append(sh.statuses, corev1.ContainerStatus{Name: c.Name, Image: c.Image, Ready: true, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	}
	return sh
}

// reducedSpec is the part of spec a settled pod's checks read. It shares
// the slices it keeps whole with spec.
func reducedSpec(spec *corev1.PodSpec) corev1.PodSpec {
	out := corev1.PodSpec{
		Containers:       reducedContainers(spec.Containers),
		InitContainers:   reducedContainers(spec.InitContainers),
		ImagePullSecrets: spec.ImagePullSecrets,
	}
	for _, v := range spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") {
			continue // not a reference podSpecRefs checks
		}
		if v.Secret != nil || v.ConfigMap != nil || v.Projected != nil {
			out.Volumes = append(out.Volumes, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{Secret: v.Secret, ConfigMap: v.ConfigMap, Projected: v.Projected}})
		}
	}
	return out
}

func reducedContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, Ports: c.Ports, EnvFrom: c.EnvFrom, RestartPolicy: c.RestartPolicy}
		for _, e := range c.Env {
			if e.ValueFrom != nil && (e.ValueFrom.SecretKeyRef != nil || e.ValueFrom.ConfigMapKeyRef != nil) {
				out[i].Env = append(out[i].Env, corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: e.ValueFrom.SecretKeyRef, ConfigMapKeyRef: e.ValueFrom.ConfigMapKeyRef}})
			}
		}
	}
	return out
}

package diagnose

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/tools"
)

// Resource is one list the collector can make.
type Resource string

// The lists a snapshot can hold.
const (
	ResPods           Resource = "pods"
	ResEvents         Resource = "events"
	ResServices       Resource = "services"
	ResIngresses      Resource = "ingresses"
	ResIngressClasses Resource = "ingressclasses"
	ResPVCs           Resource = "persistentvolumeclaims"
	ResStorageClasses Resource = "storageclasses"
	ResNodes          Resource = "nodes"
	ResDeployments    Resource = "deployments"
	ResReplicaSets    Resource = "replicasets"
	ResStatefulSets   Resource = "statefulsets"
	ResDaemonSets     Resource = "daemonsets"
	ResJobs           Resource = "jobs"
	ResCronJobs       Resource = "cronjobs"
	ResHPAs           Resource = "horizontalpodautoscalers"
	ResSecrets        Resource = "secrets"
	ResConfigMaps     Resource = "configmaps"
)

func (r Resource) clusterScoped() bool {
	return r == ResNodes || r == ResStorageClasses || r == ResIngressClasses
}

// systemNamespace reports namespaces whose contents are the cluster's, not
// the user's: they are skipped unless named explicitly with -n.
func systemNamespace(ns string) bool {
	return ns == metav1.NamespaceSystem || ns == metav1.NamespacePublic || ns == corev1.NamespaceNodeLease
}

// scope is what one diagnosis looks at.
type scope struct {
	// namespace is "" for all namespaces.
	namespace string
	// pageSize is how many objects one LIST returns (0: DefaultPageSize,
	// < 0: unpaged). It is how the scope is read rather than what it is,
	// kept here because every list of the scope uses it.
	pageSize int64
	// includeSystem keeps kube-system & co (the namespace was named with -n).
	includeSystem bool
	selector      labels.Selector
	// allEvents lists Normal events too (explain); diagnose reads Warnings only.
	allEvents bool
	// wholePods keeps settled pods whole (explain shows their restarts and
	// start times; bench/diagnose's baseline) instead of as settledPods.
	wholePods bool
}

// Snapshot is everything one diagnosis reads, listed once per scope. Lists
// that were not needed, or could not be read, are empty; Listed says which
// were read.
type Snapshot struct {
	Now time.Time

	// Pods are the pods a rule may report, whole; settled pods (see
	// settledPod) are kept apart, unless the scope keeps every pod whole.
	Pods           []corev1.Pod
	Events         []corev1.Event
	Services       []corev1.Service
	Ingresses      []networkingv1.Ingress
	IngressClasses []networkingv1.IngressClass
	PVCs           []corev1.PersistentVolumeClaim
	StorageClasses []storagev1.StorageClass
	Nodes          []corev1.Node
	Deployments    []appsv1.Deployment
	ReplicaSets    []appsv1.ReplicaSet
	StatefulSets   []appsv1.StatefulSet
	DaemonSets     []appsv1.DaemonSet
	Jobs           []batchv1.Job
	CronJobs       []batchv1.CronJob
	HPAs           []autoscalingv2.HorizontalPodAutoscaler

	scope  scope
	listed map[Resource]bool

	// Secrets and ConfigMaps are kept as key names only; values go into the
	// redactor and are then dropped.
	secrets    map[nsName]*secretInfo
	configMaps map[nsName]map[string]bool
	redactor   *redact.Redactor

	// settled are the pods no rule reports, as compact records; interned
	// is what they share, while the snapshot is filled.
	settled  []settledPod
	interned *podInterner

	events      map[types.UID][]*corev1.Event
	objects     map[types.UID]objectInfo
	podsByOwner map[types.UID][]*corev1.Pod
	podsByNS    map[string][]*corev1.Pod
	// settledByOwner and settledByNS index settled as podsByOwner and
	// podsByNS index Pods.
	settledByOwner map[types.UID][]*settledPod
	settledByNS    map[string][]*settledPod
	rsByOwner      map[types.UID][]*appsv1.ReplicaSet
	jobsByOwner    map[types.UID][]*batchv1.Job
	services       map[nsName]*corev1.Service
}

type nsName struct{ ns, name string }

type objectInfo struct {
	ref  ObjectRef
	meta *metav1.ObjectMeta
}

// secretInfo is what diagnose keeps of a Secret: never its values, except
// the encoded release of a Helm release Secret that is not deployed.
type secretInfo struct {
	meta    metav1.ObjectMeta
	typ     corev1.SecretType
	keys    map[string]bool
	release []byte
}

// Listed reports whether r was read into the snapshot.
func (s *Snapshot) Listed(r Resource) bool { return s.listed[r] }

// listFailure is a list that could not be read.
type listFailure struct {
	res Resource
	err error
}

// checkNamespace fails with tools.ErrNotFound when a namespace-scoped
// diagnosis names a namespace that does not exist (it would otherwise look
// healthy). A user who may not read namespaces is given the benefit of the
// doubt.
func checkNamespace(ctx context.Context, client kubernetes.Interface, ns string) error {
	if ns == "" {
		return nil
	}
	_, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case err == nil, apierrors.IsForbidden(err):
		return nil
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: namespace %q does not exist", tools.ErrNotFound, ns)
	}
	return fmt.Errorf("get namespace %s: %w", ns, err)
}

// collect lists every resource in need for sc, in parallel, each a page at
// a time, and indexes the result. A list refused by RBAC (or not served)
// becomes a CheckError and its checks are skipped; any other failure
// (cluster unreachable, timeout) fails the whole diagnosis.
//
// The namespace is checked alongside the lists, not before them: an empty
// namespace's diagnosis is then one round trip of the API server instead
// of two, and a missing namespace's lists are simply discarded.
func collect(ctx context.Context, d *Diagnoser, p plan) (*Snapshot, []listFailure, error) {
	s := newSnapshot(p)
	want := map[Resource]bool{}
	for _, r := range p.need {
		want[r] = true
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		failures []listFailure
		fatal    []listFailure
		nsErr    error
	)
	wg.Go(func() { nsErr = checkNamespace(ctx, d.client, p.scope.namespace) })
	// Each list fills its own fields of s; nothing else touches them until
	// wg.Wait.
	for r := range want {
		wg.Go(func() {
			err := s.list(ctx, d, r)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				s.listed[r] = true
			case apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err):
				failures = append(failures, listFailure{res: r, err: err})
			default:
				fatal = append(fatal, listFailure{res: r, err: err})
			}
		})
	}
	wg.Wait()
	if nsErr != nil {
		return nil, nil, nsErr
	}
	if len(fatal) > 0 {
		// Usually one cause (the cluster is unreachable) seen by every list:
		// say it once.
		slices.SortFunc(fatal, func(a, b listFailure) int { return cmp.Compare(a.res, b.res) })
		err := fmt.Errorf("list %s: %w", fatal[0].res, fatal[0].err)
		if n := len(fatal) - 1; n > 0 {
			err = fmt.Errorf("%w (and %d more lists failed)", err, n)
		}
		return nil, nil, err
	}
	slices.SortFunc(failures, func(a, b listFailure) int { return cmp.Compare(a.res, b.res) })
	s.index()
	return s, failures, nil
}

func (s *Snapshot) list(ctx context.Context, d *Diagnoser, r Resource) error {
	c, ns, ps := d.client, s.scope.namespace, s.scope.pageSize
	opts := metav1.ListOptions{}
	switch r {
	case ResPods:
		return eachItem(ctx, ps, opts, c.CoreV1().Pods(ns).List, s.addPod)
	case ResEvents:
		if !s.scope.allEvents {
			opts.FieldSelector = "type=" + corev1.EventTypeWarning
		}
		return eachItem(ctx, ps, opts, c.CoreV1().Events(ns).List, appendSlim(&s.Events))
	case ResServices:
		return eachItem(ctx, ps, opts, c.CoreV1().Services(ns).List, appendSlim(&s.Services))
	case ResIngresses:
		return eachItem(ctx, ps, opts, c.NetworkingV1().Ingresses(ns).List, appendSlim(&s.Ingresses))
	case ResIngressClasses:
		return eachItem(ctx, ps, opts, c.NetworkingV1().IngressClasses().List, appendSlim(&s.IngressClasses))
	case ResPVCs:
		return eachItem(ctx, ps, opts, c.CoreV1().PersistentVolumeClaims(ns).List, appendSlim(&s.PVCs))
	case ResStorageClasses:
		return eachItem(ctx, ps, opts, c.StorageV1().StorageClasses().List, appendSlim(&s.StorageClasses))
	case ResNodes:
		return eachItem(ctx, ps, opts, c.CoreV1().Nodes().List, appendSlim(&s.Nodes))
	case ResDeployments:
		return eachItem(ctx, ps, opts, c.AppsV1().Deployments(ns).List, appendSlim(&s.Deployments))
	case ResReplicaSets:
		return eachItem(ctx, ps, opts, c.AppsV1().ReplicaSets(ns).List, appendSlim(&s.ReplicaSets))
	case ResStatefulSets:
		return eachItem(ctx, ps, opts, c.AppsV1().StatefulSets(ns).List, appendSlim(&s.StatefulSets))
	case ResDaemonSets:
		return eachItem(ctx, ps, opts, c.AppsV1().DaemonSets(ns).List, appendSlim(&s.DaemonSets))
	case ResJobs:
		return eachItem(ctx, ps, opts, c.BatchV1().Jobs(ns).List, appendSlim(&s.Jobs))
	case ResCronJobs:
		return eachItem(ctx, ps, opts, c.BatchV1().CronJobs(ns).List, appendSlim(&s.CronJobs))
	case ResHPAs:
		return eachItem(ctx, ps, opts, c.AutoscalingV2().HorizontalPodAutoscalers(ns).List, appendSlim(&s.HPAs))
	case ResSecrets:
		return s.listSecrets(ctx, d)
	case ResConfigMaps:
		// Key names only: a ConfigMap's values can be large and diagnose
		// only checks that a referenced key exists.
		s.configMaps = map[nsName]map[string]bool{}
		return eachItem(ctx, ps, opts, c.CoreV1().ConfigMaps(ns).List, s.addConfigMap)
	}
	return fmt.Errorf("unknown resource %q", r)
}

// addConfigMap keeps a ConfigMap's key names: its values can be large and
// diagnose only checks that a referenced key exists.
func (s *Snapshot) addConfigMap(cm *corev1.ConfigMap) {
	keys := make(map[string]bool, len(cm.Data)+len(cm.BinaryData))
	for k := range cm.Data {
		keys[k] = true
	}
	for k := range cm.BinaryData {
		keys[k] = true
	}
	s.configMaps[nsName{cm.Namespace, cm.Name}] = keys
}

// newSnapshot is an empty snapshot for p. The redactor is fed as Secrets
// are read, so it exists before.
func newSnapshot(p plan) *Snapshot {
	return &Snapshot{Now: p.now, scope: p.scope, listed: map[Resource]bool{}, redactor: redact.New(nil, nil)}
}

// index builds the lookups the analyzers join on.
func (s *Snapshot) index() {
	s.events = make(map[types.UID][]*corev1.Event)
	for i := range s.Events {
		ev := &s.Events[i]
		if ev.InvolvedObject.UID != "" {
			s.events[ev.InvolvedObject.UID] = append(s.events[ev.InvolvedObject.UID], ev)
		}
	}

	// The objects an owner chain passes through (owners follows UIDs):
	// the workloads and ReplicaSets. Pods own nothing; they are indexed by
	// owner below.
	s.objects = make(map[types.UID]objectInfo)
	s.eachWorkload(func(kind string, m *metav1.ObjectMeta) {
		s.objects[m.UID] = objectInfo{ref: refOf(kind, m), meta: m}
	})
	s.rsByOwner = make(map[types.UID][]*appsv1.ReplicaSet)
	for i := range s.ReplicaSets {
		rs := &s.ReplicaSets[i]
		if o := metav1.GetControllerOf(rs); o != nil {
			s.rsByOwner[o.UID] = append(s.rsByOwner[o.UID], rs)
		}
	}
	s.jobsByOwner = make(map[types.UID][]*batchv1.Job)
	for i := range s.Jobs {
		j := &s.Jobs[i]
		if o := metav1.GetControllerOf(j); o != nil {
			s.jobsByOwner[o.UID] = append(s.jobsByOwner[o.UID], j)
		}
	}

	s.podsByOwner = make(map[types.UID][]*corev1.Pod)
	s.podsByNS = make(map[string][]*corev1.Pod)
	for i := range s.Pods {
		p := &s.Pods[i]
		s.podsByNS[p.Namespace] = append(s.podsByNS[p.Namespace], p)
		if o := metav1.GetControllerOf(p); o != nil {
			s.podsByOwner[o.UID] = append(s.podsByOwner[o.UID], p)
		}
	}
	s.interned = nil // the classes hold what they share
	s.settledByOwner = make(map[types.UID][]*settledPod)
	s.settledByNS = make(map[string][]*settledPod)
	for i := range s.settled {
		sp := &s.settled[i]
		s.settledByNS[sp.class.namespace] = append(s.settledByNS[sp.class.namespace], sp)
		if o := controllerRef(sp.class.owners); o != nil {
			s.settledByOwner[o.UID] = append(s.settledByOwner[o.UID], sp)
		}
	}
	s.services = make(map[nsName]*corev1.Service, len(s.Services))
	for i := range s.Services {
		svc := &s.Services[i]
		s.services[nsName{svc.Namespace, svc.Name}] = svc
	}
}

// eachObject calls f with the metadata of every workload and pod in the
// snapshot, workloads first (Deployments, StatefulSets, DaemonSets,
// CronJobs, Jobs, ReplicaSets, then Pods): the one list of the kinds an
// owner chain or a name given to explain can lead to.
func (s *Snapshot) eachObject(f func(kind string, m *metav1.ObjectMeta)) {
	s.eachWorkload(f)
	for i := range s.Pods {
		f("Pod", &s.Pods[i].ObjectMeta)
	}
	for i := range s.settled {
		m := s.settled[i].meta()
		f("Pod", &m)
	}
}

// eachWorkload is eachObject without the pods: the objects an owner chain
// passes through.
func (s *Snapshot) eachWorkload(f func(kind string, m *metav1.ObjectMeta)) {
	for i := range s.Deployments {
		f("Deployment", &s.Deployments[i].ObjectMeta)
	}
	for i := range s.StatefulSets {
		f("StatefulSet", &s.StatefulSets[i].ObjectMeta)
	}
	for i := range s.DaemonSets {
		f("DaemonSet", &s.DaemonSets[i].ObjectMeta)
	}
	for i := range s.CronJobs {
		f("CronJob", &s.CronJobs[i].ObjectMeta)
	}
	for i := range s.Jobs {
		f("Job", &s.Jobs[i].ObjectMeta)
	}
	for i := range s.ReplicaSets {
		f("ReplicaSet", &s.ReplicaSets[i].ObjectMeta)
	}
}

func refOf(kind string, m *metav1.ObjectMeta) ObjectRef {
	return ObjectRef{Kind: kind, Namespace: m.Namespace, Name: m.Name, UID: m.UID}
}

// inScope reports whether an object is one the user asked about: in the
// namespace(s) of the scope, not in a system namespace unless named, and
// matching the label selector.
func (s *Snapshot) inScope(m *metav1.ObjectMeta) bool { return s.inScopeAt(m.Namespace, m.Labels) }

// inScopeAt is inScope of an object in namespace ns with labels l.
func (s *Snapshot) inScopeAt(ns string, l map[string]string) bool {
	if s.scope.namespace != "" && ns != "" && ns != s.scope.namespace {
		return false
	}
	if ns != "" && !s.scope.includeSystem && systemNamespace(ns) {
		return false
	}
	return s.scope.selector == nil || s.scope.selector.Matches(labels.Set(l))
}

// owners is the controller chain of an object, nearest first: a pod's
// ReplicaSet then Deployment. Owners are followed by UID; an owner that is
// not in the snapshot ends the chain with the reference as written.
func (s *Snapshot) owners(m *metav1.ObjectMeta) []ObjectRef {
	var chain []ObjectRef
	refs := m.OwnerReferences
	for range 5 {
		ref := controllerRef(refs)
		if ref == nil {
			break
		}
		info, ok := s.objects[ref.UID]
		if !ok {
			chain = append(chain, ObjectRef{Kind: ref.Kind, Namespace: m.Namespace, Name: ref.Name, UID: ref.UID})
			break
		}
		chain = append(chain, info.ref)
		refs = info.meta.OwnerReferences
	}
	return chain
}

func controllerRef(refs []metav1.OwnerReference) *metav1.OwnerReference {
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	return nil
}

// maxEvents bounds the events kept as evidence of one finding.
const maxEvents = 3

// eventsOf returns the events of one object, matched by namespace and UID
// (never by name: a re-created object with the same name does not inherit
// the old one's events), newest first, optionally only those with one of
// reasons, at most limit.
func (s *Snapshot) eventsOf(ref ObjectRef, limit int, reasons ...string) []Event {
	var out []*corev1.Event
	for _, ev := range s.events[ref.UID] {
		if ev.InvolvedObject.Namespace != ref.Namespace {
			continue
		}
		if len(reasons) > 0 && !slices.Contains(reasons, ev.Reason) {
			continue
		}
		out = append(out, ev)
	}
	slices.SortFunc(out, func(a, b *corev1.Event) int { return eventTime(b).Compare(eventTime(a)) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	res := make([]Event, len(out))
	for i, ev := range out {
		res[i] = toEvent(ev)
	}
	return res
}

func toEvent(ev *corev1.Event) Event {
	count := ev.Count
	if ev.Series != nil && ev.Series.Count > count {
		count = ev.Series.Count
	}
	return Event{Type: ev.Type, Reason: ev.Reason, Message: trimLine(ev.Message), Count: count, LastSeen: eventTime(ev).UTC()}
}

// eventTime is when an event was last seen, from whichever field the
// reporter filled in.
func eventTime(ev *corev1.Event) time.Time {
	switch {
	case ev.Series != nil && !ev.Series.LastObservedTime.IsZero():
		return ev.Series.LastObservedTime.Time
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	case !ev.FirstTimestamp.IsZero():
		return ev.FirstTimestamp.Time
	}
	return ev.CreationTimestamp.Time
}

// podsOf returns the pods controlled by the object with uid, settled ones
// built from their records.
func (s *Snapshot) podsOf(uid types.UID) []*corev1.Pod {
	return slices.Concat(s.podsByOwner[uid], settledPods(s.settledByOwner[uid]))
}

// deploymentPods returns the pods of every ReplicaSet of a Deployment.
func (s *Snapshot) deploymentPods(uid types.UID) []*corev1.Pod {
	var out []*corev1.Pod
	for _, rs := range s.rsByOwner[uid] {
		out = append(out, s.podsOf(rs.UID)...)
	}
	return out
}

// secret returns what is known of a Secret, and whether Secrets were listed
// at all (if not, nothing can be said about missing ones).
func (s *Snapshot) secret(ns, name string) (info *secretInfo, known bool) {
	if !s.listed[ResSecrets] {
		return nil, false
	}
	return s.secrets[nsName{ns, name}], true
}

func (s *Snapshot) configMap(ns, name string) (keys map[string]bool, exists, known bool) {
	if !s.listed[ResConfigMaps] {
		return nil, false, false
	}
	keys, exists = s.configMaps[nsName{ns, name}]
	return keys, exists, true
}

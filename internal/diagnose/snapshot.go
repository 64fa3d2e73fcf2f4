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
	// includeSystem keeps kube-system & co (the namespace was named with -n).
	includeSystem bool
	selector      labels.Selector
	// allEvents lists Normal events too (explain); diagnose reads Warnings only.
	allEvents bool
}

// Snapshot is everything one diagnosis reads, listed once per scope. Lists
// that were not needed, or could not be read, are empty; Listed says which
// were read.
type Snapshot struct {
	Now time.Time

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

	events      map[types.UID][]*corev1.Event
	objects     map[types.UID]objectInfo
	podsByOwner map[types.UID][]*corev1.Pod
	podsByNS    map[string][]*corev1.Pod
	rsByOwner   map[types.UID][]*appsv1.ReplicaSet
	jobsByOwner map[types.UID][]*batchv1.Job
	services    map[nsName]*corev1.Service
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

// collect lists every resource in need for sc, in parallel, and indexes the
// result. A list refused by RBAC (or not served) becomes a CheckError and its
// checks are skipped; any other failure (cluster unreachable, timeout) fails
// the whole diagnosis.
func collect(ctx context.Context, client kubernetes.Interface, sc scope, need []Resource, now time.Time) (*Snapshot, []listFailure, error) {
	if err := checkNamespace(ctx, client, sc.namespace); err != nil {
		return nil, nil, err
	}
	s := &Snapshot{Now: now, scope: sc, listed: map[Resource]bool{}}
	want := map[Resource]bool{}
	for _, r := range need {
		want[r] = true
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		failures []listFailure
		fatal    []listFailure
	)
	var secretList *corev1.SecretList
	for r := range want {
		wg.Go(func() {
			var sl *corev1.SecretList
			err := s.list(ctx, client, r, &sl)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				s.listed[r] = true
				if sl != nil {
					secretList = sl
				}
			case apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err):
				failures = append(failures, listFailure{res: r, err: err})
			default:
				fatal = append(fatal, listFailure{res: r, err: err})
			}
		})
	}
	wg.Wait()
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
	s.index(secretList)
	return s, failures, nil
}

func (s *Snapshot) list(ctx context.Context, c kubernetes.Interface, r Resource, secrets **corev1.SecretList) error {
	ns := s.scope.namespace
	opts := metav1.ListOptions{}
	var err error
	switch r {
	case ResPods:
		var l *corev1.PodList
		if l, err = c.CoreV1().Pods(ns).List(ctx, opts); err == nil {
			s.Pods = l.Items
		}
	case ResEvents:
		if !s.scope.allEvents {
			opts.FieldSelector = "type=" + corev1.EventTypeWarning
		}
		var l *corev1.EventList
		if l, err = c.CoreV1().Events(ns).List(ctx, opts); err == nil {
			s.Events = l.Items
		}
	case ResServices:
		var l *corev1.ServiceList
		if l, err = c.CoreV1().Services(ns).List(ctx, opts); err == nil {
			s.Services = l.Items
		}
	case ResIngresses:
		var l *networkingv1.IngressList
		if l, err = c.NetworkingV1().Ingresses(ns).List(ctx, opts); err == nil {
			s.Ingresses = l.Items
		}
	case ResIngressClasses:
		var l *networkingv1.IngressClassList
		if l, err = c.NetworkingV1().IngressClasses().List(ctx, opts); err == nil {
			s.IngressClasses = l.Items
		}
	case ResPVCs:
		var l *corev1.PersistentVolumeClaimList
		if l, err = c.CoreV1().PersistentVolumeClaims(ns).List(ctx, opts); err == nil {
			s.PVCs = l.Items
		}
	case ResStorageClasses:
		var l *storagev1.StorageClassList
		if l, err = c.StorageV1().StorageClasses().List(ctx, opts); err == nil {
			s.StorageClasses = l.Items
		}
	case ResNodes:
		var l *corev1.NodeList
		if l, err = c.CoreV1().Nodes().List(ctx, opts); err == nil {
			s.Nodes = l.Items
		}
	case ResDeployments:
		var l *appsv1.DeploymentList
		if l, err = c.AppsV1().Deployments(ns).List(ctx, opts); err == nil {
			s.Deployments = l.Items
		}
	case ResReplicaSets:
		var l *appsv1.ReplicaSetList
		if l, err = c.AppsV1().ReplicaSets(ns).List(ctx, opts); err == nil {
			s.ReplicaSets = l.Items
		}
	case ResStatefulSets:
		var l *appsv1.StatefulSetList
		if l, err = c.AppsV1().StatefulSets(ns).List(ctx, opts); err == nil {
			s.StatefulSets = l.Items
		}
	case ResDaemonSets:
		var l *appsv1.DaemonSetList
		if l, err = c.AppsV1().DaemonSets(ns).List(ctx, opts); err == nil {
			s.DaemonSets = l.Items
		}
	case ResJobs:
		var l *batchv1.JobList
		if l, err = c.BatchV1().Jobs(ns).List(ctx, opts); err == nil {
			s.Jobs = l.Items
		}
	case ResCronJobs:
		var l *batchv1.CronJobList
		if l, err = c.BatchV1().CronJobs(ns).List(ctx, opts); err == nil {
			s.CronJobs = l.Items
		}
	case ResHPAs:
		var l *autoscalingv2.HorizontalPodAutoscalerList
		if l, err = c.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, opts); err == nil {
			s.HPAs = l.Items
		}
	case ResSecrets:
		*secrets, err = c.CoreV1().Secrets(ns).List(ctx, opts)
	case ResConfigMaps:
		var l *corev1.ConfigMapList
		if l, err = c.CoreV1().ConfigMaps(ns).List(ctx, opts); err == nil {
			s.configMaps = make(map[nsName]map[string]bool, len(l.Items))
			for _, cm := range l.Items {
				keys := make(map[string]bool, len(cm.Data)+len(cm.BinaryData))
				for k := range cm.Data {
					keys[k] = true
				}
				for k := range cm.BinaryData {
					keys[k] = true
				}
				s.configMaps[nsName{cm.Namespace, cm.Name}] = keys
			}
		}
	default:
		return fmt.Errorf("unknown resource %q", r)
	}
	return err
}

// index builds the lookups the analyzers join on.
func (s *Snapshot) index(secrets *corev1.SecretList) {
	s.redactor = redact.New(nil, nil)
	if secrets != nil {
		s.secrets = make(map[nsName]*secretInfo, len(secrets.Items))
		for i := range secrets.Items {
			sec := &secrets.Items[i]
			info := &secretInfo{meta: sec.ObjectMeta, typ: sec.Type, keys: make(map[string]bool, len(sec.Data))}
			for k := range sec.Data {
				info.keys[k] = true
			}
			s.redactor.AddSecret(sec) // skips Helm release payloads and non-secret keys
			if sec.Type == helmReleaseType && helmNeedsRelease(sec.Labels) {
				info.release = sec.Data["release"]
			}
			info.meta.ManagedFields = nil
			s.secrets[nsName{sec.Namespace, sec.Name}] = info
		}
	}

	s.events = make(map[types.UID][]*corev1.Event)
	for i := range s.Events {
		ev := &s.Events[i]
		if ev.InvolvedObject.UID != "" {
			s.events[ev.InvolvedObject.UID] = append(s.events[ev.InvolvedObject.UID], ev)
		}
	}

	s.objects = make(map[types.UID]objectInfo)
	add := func(kind string, m *metav1.ObjectMeta) {
		s.objects[m.UID] = objectInfo{ref: refOf(kind, m), meta: m}
	}
	s.rsByOwner = make(map[types.UID][]*appsv1.ReplicaSet)
	for i := range s.ReplicaSets {
		rs := &s.ReplicaSets[i]
		add("ReplicaSet", &rs.ObjectMeta)
		if o := metav1.GetControllerOf(rs); o != nil {
			s.rsByOwner[o.UID] = append(s.rsByOwner[o.UID], rs)
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
	s.jobsByOwner = make(map[types.UID][]*batchv1.Job)
	for i := range s.Jobs {
		j := &s.Jobs[i]
		add("Job", &j.ObjectMeta)
		if o := metav1.GetControllerOf(j); o != nil {
			s.jobsByOwner[o.UID] = append(s.jobsByOwner[o.UID], j)
		}
	}
	for i := range s.CronJobs {
		add("CronJob", &s.CronJobs[i].ObjectMeta)
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
	s.services = make(map[nsName]*corev1.Service, len(s.Services))
	for i := range s.Services {
		svc := &s.Services[i]
		s.services[nsName{svc.Namespace, svc.Name}] = svc
	}
}

func refOf(kind string, m *metav1.ObjectMeta) ObjectRef {
	return ObjectRef{Kind: kind, Namespace: m.Namespace, Name: m.Name, UID: m.UID}
}

// inScope reports whether an object is one the user asked about: in the
// namespace(s) of the scope, not in a system namespace unless named, and
// matching the label selector.
func (s *Snapshot) inScope(m *metav1.ObjectMeta) bool {
	if s.scope.namespace != "" && m.Namespace != "" && m.Namespace != s.scope.namespace {
		return false
	}
	if m.Namespace != "" && !s.scope.includeSystem && systemNamespace(m.Namespace) {
		return false
	}
	return s.scope.selector == nil || s.scope.selector.Matches(labels.Set(m.Labels))
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

// podsOf returns the pods controlled by the object with uid.
func (s *Snapshot) podsOf(uid types.UID) []*corev1.Pod { return s.podsByOwner[uid] }

// deploymentPods returns the pods of every ReplicaSet of a Deployment.
func (s *Snapshot) deploymentPods(uid types.UID) []*corev1.Pod {
	var out []*corev1.Pod
	for _, rs := range s.rsByOwner[uid] {
		out = append(out, s.podsByOwner[rs.UID]...)
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

package diagnose

import (
	"context"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Objects are what a diagnosis reads, already in memory. Diagnose lists
// them for each diagnosis; `opsagent watch` keeps them in informer caches
// and diagnoses what the caches hold (Analyze), so that a cluster is read
// once and then followed by watches.
//
// The objects are shared with their owner (an informer's cache): nothing
// here writes to them. They are expected to be slimmed already
// (SlimObject as the informers' transform).
type Objects struct {
	Pods           []*corev1.Pod
	Events         []*corev1.Event // Warning events (plus Normal ones for explain)
	Services       []*corev1.Service
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	PVCs           []*corev1.PersistentVolumeClaim
	StorageClasses []*storagev1.StorageClass
	Nodes          []*corev1.Node
	Deployments    []*appsv1.Deployment
	ReplicaSets    []*appsv1.ReplicaSet
	StatefulSets   []*appsv1.StatefulSet
	DaemonSets     []*appsv1.DaemonSet
	Jobs           []*batchv1.Job
	CronJobs       []*batchv1.CronJob
	HPAs           []*autoscalingv2.HorizontalPodAutoscaler
	// Secrets are every Secret but Helm's release records: their values
	// feed the redactor and are not kept in the snapshot.
	Secrets []*corev1.Secret
	// HelmRecords are Helm's release Secrets as metadata (type
	// helm.sh/release.v1); the payload of a failed or pending latest
	// revision is read with one GET (cached by resourceVersion).
	HelmRecords []*metav1.PartialObjectMetadata
	// ConfigMaps are read for their key names only.
	ConfigMaps []*corev1.ConfigMap

	// Failed are the lists that could not be read (refused by RBAC, not
	// served): they are reported in the report's Errors or Skipped, and
	// their checks left out, as Diagnose does.
	Failed map[Resource]error
}

// Needs returns the lists a diagnosis with o reads: what a caller that
// keeps Objects must hold.
func Needs(o Options) ([]Resource, error) {
	p, err := o.plan()
	if err != nil {
		return nil, err
	}
	return p.need, nil
}

// CheckNamespace fails with tools.ErrNotFound when o names a namespace
// that does not exist, as Diagnose does: a caller that keeps Objects of a
// namespace checks it once, before it starts reading.
func (d *Diagnoser) CheckNamespace(ctx context.Context, o Options) error {
	if o.AllNamespaces {
		return nil
	}
	return checkNamespace(ctx, d.client, o.Namespace)
}

// Analyze diagnoses objs as Diagnose diagnoses what it lists. It does no
// LIST: the only reads are one GET per failed or pending Helm release
// (cached across calls by resourceVersion) and, unless o.Logs.Disabled,
// the logs of failing containers.
func (d *Diagnoser) Analyze(ctx context.Context, o Options, objs *Objects) (*Report, error) {
	start := time.Now()
	p, err := o.plan()
	if err != nil {
		return nil, err
	}
	s := newSnapshot(p)
	var failures []listFailure
	for _, r := range p.need {
		if err := objs.Failed[r]; err != nil {
			failures = append(failures, listFailure{res: r, err: err})
			continue
		}
		s.listed[r] = true
	}
	s.fill(objs)
	if s.listed[ResSecrets] {
		if err := s.fetchHelmReleases(ctx, d); err != nil {
			return nil, err
		}
	}
	s.index()
	return d.report(ctx, o, p, s, failures, start), nil
}

// fill copies what s needs of objs: the structs (not what they point to),
// so that the snapshot's slices are laid out as listed ones are.
func (s *Snapshot) fill(objs *Objects) {
	for r := range s.listed {
		switch r {
		case ResPods:
			for _, p := range objs.Pods {
				s.addPod(p)
			}
		case ResEvents:
			s.Events = values(objs.Events)
			if !s.scope.allEvents {
				s.Events = slicesDeleteNormal(s.Events)
			}
		case ResServices:
			s.Services = values(objs.Services)
		case ResIngresses:
			s.Ingresses = values(objs.Ingresses)
		case ResIngressClasses:
			s.IngressClasses = values(objs.IngressClasses)
		case ResPVCs:
			s.PVCs = values(objs.PVCs)
		case ResStorageClasses:
			s.StorageClasses = values(objs.StorageClasses)
		case ResNodes:
			s.Nodes = values(objs.Nodes)
		case ResDeployments:
			s.Deployments = values(objs.Deployments)
		case ResReplicaSets:
			s.ReplicaSets = values(objs.ReplicaSets)
		case ResStatefulSets:
			s.StatefulSets = values(objs.StatefulSets)
		case ResDaemonSets:
			s.DaemonSets = values(objs.DaemonSets)
		case ResJobs:
			s.Jobs = values(objs.Jobs)
		case ResCronJobs:
			s.CronJobs = values(objs.CronJobs)
		case ResHPAs:
			s.HPAs = values(objs.HPAs)
		case ResSecrets:
			s.secrets = make(map[nsName]*secretInfo, len(objs.Secrets)+len(objs.HelmRecords))
			for _, sec := range objs.Secrets {
				if sec.Type != helmReleaseType {
					s.addSecret(sec)
				}
			}
			for _, m := range objs.HelmRecords {
				s.addHelmRecord(&m.ObjectMeta)
			}
		case ResConfigMaps:
			s.configMaps = make(map[nsName]map[string]bool, len(objs.ConfigMaps))
			for _, cm := range objs.ConfigMaps {
				s.addConfigMap(cm)
			}
		}
	}
}

// values copies each pointed-to struct into a slice.
func values[T any](ptrs []*T) []T {
	out := make([]T, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

// slicesDeleteNormal keeps Warning events: what Diagnose's field selector
// asks the API server for.
func slicesDeleteNormal(evs []corev1.Event) []corev1.Event {
	out := evs[:0]
	for _, ev := range evs {
		if ev.Type == corev1.EventTypeWarning {
			out = append(out, ev)
		}
	}
	return out
}

// releaseCache keeps the payloads of Helm release records a Diagnoser read,
// by namespace, name and resourceVersion: a watcher that diagnoses every few
// seconds reads a failed release's record once, not at every diagnosis.
type releaseCache struct {
	mu      sync.Mutex
	entries map[releaseKey][]byte
}

type releaseKey struct{ ns, name, rv string }

// maxCachedReleases bounds the cache; a record whose revision is
// superseded is simply not asked for again, so clearing it when full
// costs one GET per failed release.
const maxCachedReleases = 64

// releaseData returns the payload of one Helm release record.
func (d *Diagnoser) releaseData(ctx context.Context, m *metav1.ObjectMeta) ([]byte, error) {
	k := releaseKey{m.Namespace, m.Name, m.ResourceVersion}
	d.releases.mu.Lock()
	data, ok := d.releases.entries[k]
	d.releases.mu.Unlock()
	if ok {
		return data, nil
	}
	sec, err := d.client.CoreV1().Secrets(m.Namespace).Get(ctx, m.Name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	data = sec.Data["release"]
	if sec.ResourceVersion != m.ResourceVersion {
		// Changed since it was listed: keep it under the version read.
		k.rv = sec.ResourceVersion
	}
	d.releases.mu.Lock()
	defer d.releases.mu.Unlock()
	if d.releases.entries == nil || len(d.releases.entries) >= maxCachedReleases {
		d.releases.entries = map[releaseKey][]byte{}
	}
	d.releases.entries[k] = data
	return data, nil
}

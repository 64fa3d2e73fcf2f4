package watch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/opsagent/opsagent/internal/diagnose"
)

// helmReleaseType is the type of Helm's release Secrets: they are followed
// as metadata (diagnose reads a payload only for a failed release).
const helmReleaseType = "helm.sh/release.v1"

// resourceGVR is the API resource behind each list diagnose can make, for
// the access check made before watching it.
var resourceGVR = map[diagnose.Resource]schema.GroupVersionResource{
	diagnose.ResPods:           {Version: "v1", Resource: "pods"},
	diagnose.ResEvents:         {Version: "v1", Resource: "events"},
	diagnose.ResServices:       {Version: "v1", Resource: "services"},
	diagnose.ResIngresses:      {Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
	diagnose.ResIngressClasses: {Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"},
	diagnose.ResPVCs:           {Version: "v1", Resource: "persistentvolumeclaims"},
	diagnose.ResStorageClasses: {Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"},
	diagnose.ResNodes:          {Version: "v1", Resource: "nodes"},
	diagnose.ResDeployments:    {Group: "apps", Version: "v1", Resource: "deployments"},
	diagnose.ResReplicaSets:    {Group: "apps", Version: "v1", Resource: "replicasets"},
	diagnose.ResStatefulSets:   {Group: "apps", Version: "v1", Resource: "statefulsets"},
	diagnose.ResDaemonSets:     {Group: "apps", Version: "v1", Resource: "daemonsets"},
	diagnose.ResJobs:           {Group: "batch", Version: "v1", Resource: "jobs"},
	diagnose.ResCronJobs:       {Group: "batch", Version: "v1", Resource: "cronjobs"},
	diagnose.ResHPAs:           {Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
	diagnose.ResSecrets:        {Version: "v1", Resource: "secrets"},
	diagnose.ResConfigMaps:     {Version: "v1", Resource: "configmaps"},
}

// clusterScoped lists the resources that have no namespace.
func clusterScoped(r diagnose.Resource) bool {
	return r == diagnose.ResNodes || r == diagnose.ResStorageClasses || r == diagnose.ResIngressClasses
}

// objectCache follows what a diagnosis reads with informers: one LIST per
// resource at start, then watches. Diagnoses read the caches (Objects).
type objectCache struct {
	typed     informers.SharedInformerFactory
	meta      metadatainformer.SharedInformerFactory
	informers map[diagnose.Resource]cache.SharedIndexInformer
	// helm follows Helm's release records as metadata, with Secrets.
	helm cache.SharedIndexInformer
	// failed are the resources this identity may not list and watch.
	failed map[diagnose.Resource]error
	// namespace is the namespace followed ("" for all).
	namespace string
}

// newObjectCache sets up (does not start) informers for need in namespace
// ns ("" for all), leaving out what the caller may not list and watch.
// changed is called on every add, update and delete that can change a
// diagnosis.
func newObjectCache(ctx context.Context, client kubernetes.Interface, meta metadata.Interface, ns string, need []diagnose.Resource, changed func()) (*objectCache, error) {
	c := &objectCache{
		typed:     informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns), informers.WithTransform(slim)),
		meta:      metadatainformer.NewFilteredSharedInformerFactory(meta, 0, ns, helmRecordsOnly),
		informers: map[diagnose.Resource]cache.SharedIndexInformer{},
		failed:    map[diagnose.Resource]error{},
		namespace: ns,
	}
	for _, r := range need {
		if err := canWatch(ctx, client, ns, r); err != nil {
			if apierrors.IsForbidden(err) {
				c.failed[r] = err
				continue
			}
			return nil, err
		}
		inf := c.informerFor(r, ns)
		if _, err := inf.AddEventHandler(changeHandler(changed)); err != nil {
			return nil, fmt.Errorf("watch %s: %w", r, err)
		}
		c.informers[r] = inf
		if r == diagnose.ResSecrets {
			c.helm = c.meta.ForResource(resourceGVR[r]).Informer()
			if err := c.helm.SetTransform(slim); err != nil {
				return nil, fmt.Errorf("watch Helm release records: %w", err)
			}
			if _, err := c.helm.AddEventHandler(changeHandler(changed)); err != nil {
				return nil, fmt.Errorf("watch Helm release records: %w", err)
			}
		}
	}
	return c, nil
}

func helmRecordsOnly(o *metav1.ListOptions) { o.FieldSelector = "type=" + helmReleaseType }

// informerFor returns the informer of one resource. Events are Warnings only
// (what diagnose reads) and Secrets all but Helm's release records, which
// are followed as metadata: a record is a gzipped chart and manifest per
// revision, and holding them all is most of what a cache of Secrets weighs.
func (c *objectCache) informerFor(r diagnose.Resource, ns string) cache.SharedIndexInformer {
	f := c.typed
	byNamespace := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	switch r {
	case diagnose.ResPods:
		return f.Core().V1().Pods().Informer()
	case diagnose.ResEvents:
		return f.InformerFor(&corev1.Event{}, func(cs kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
			return coreinformers.NewFilteredEventInformer(cs, ns, resync, byNamespace, func(o *metav1.ListOptions) {
				o.FieldSelector = "type=" + corev1.EventTypeWarning
			})
		})
	case diagnose.ResServices:
		return f.Core().V1().Services().Informer()
	case diagnose.ResIngresses:
		return f.Networking().V1().Ingresses().Informer()
	case diagnose.ResIngressClasses:
		return f.Networking().V1().IngressClasses().Informer()
	case diagnose.ResPVCs:
		return f.Core().V1().PersistentVolumeClaims().Informer()
	case diagnose.ResStorageClasses:
		return f.Storage().V1().StorageClasses().Informer()
	case diagnose.ResNodes:
		return f.Core().V1().Nodes().Informer()
	case diagnose.ResDeployments:
		return f.Apps().V1().Deployments().Informer()
	case diagnose.ResReplicaSets:
		return f.Apps().V1().ReplicaSets().Informer()
	case diagnose.ResStatefulSets:
		return f.Apps().V1().StatefulSets().Informer()
	case diagnose.ResDaemonSets:
		return f.Apps().V1().DaemonSets().Informer()
	case diagnose.ResJobs:
		return f.Batch().V1().Jobs().Informer()
	case diagnose.ResCronJobs:
		return f.Batch().V1().CronJobs().Informer()
	case diagnose.ResHPAs:
		return f.Autoscaling().V2().HorizontalPodAutoscalers().Informer()
	case diagnose.ResSecrets:
		return f.InformerFor(&corev1.Secret{}, func(cs kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
			return coreinformers.NewFilteredSecretInformer(cs, ns, resync, byNamespace, func(o *metav1.ListOptions) {
				o.FieldSelector = "type!=" + helmReleaseType
			})
		})
	case diagnose.ResConfigMaps:
		return f.Core().V1().ConfigMaps().Informer()
	}
	panic(fmt.Sprintf("watch: no informer for %q", r)) // every diagnose.Resource is listed above
}

// canWatch asks the API server whether this identity may list and watch r
// in ns. An informer that may not would retry for ever; diagnose reports
// such a list as a check that could not run, and so does watch.
func canWatch(ctx context.Context, client kubernetes.Interface, ns string, r diagnose.Resource) error {
	gvr := resourceGVR[r]
	if clusterScoped(r) {
		ns = ""
	}
	for _, verb := range []string{"list", "watch"} {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: gvr.Group, Resource: gvr.Resource},
		}}
		got, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("check access to %s: %w", r, err)
		}
		if !got.Status.Allowed {
			where := "in namespace " + ns
			if ns == "" {
				where = "cluster-wide"
			}
			return apierrors.NewForbidden(gvr.GroupResource(), "", fmt.Errorf("this identity may not %s %s %s", verb, r, where))
		}
	}
	return nil
}

// start starts the informers, which run until ctx ends, and waits until
// every cache holds its first LIST, or syncCtx ends.
func (c *objectCache) start(ctx, syncCtx context.Context) error {
	c.typed.Start(ctx.Done())
	c.meta.Start(ctx.Done())
	var unsynced []string
	for r, ok := range c.typed.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			unsynced = append(unsynced, r.String())
		}
	}
	for r, ok := range c.meta.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			unsynced = append(unsynced, "Helm release records ("+r.Resource+")")
		}
	}
	if len(unsynced) > 0 {
		slices.Sort(unsynced)
		return fmt.Errorf("caches of %s: %w", strings.Join(unsynced, ", "), context.Cause(syncCtx))
	}
	return nil
}

// shutdown stops the informers' goroutines (ctx of start must be done).
func (c *objectCache) shutdown() {
	c.typed.Shutdown()
	c.meta.Shutdown()
}

// objects returns what the caches hold now. The objects are the caches'
// own: read only.
func (c *objectCache) objects() *diagnose.Objects {
	o := &diagnose.Objects{Failed: c.failed}
	for r, inf := range c.informers {
		items := inf.GetStore().List()
		switch r {
		case diagnose.ResPods:
			o.Pods = typedAs(items, o.Pods)
		case diagnose.ResEvents:
			o.Events = typedAs(items, o.Events)
		case diagnose.ResServices:
			o.Services = typedAs(items, o.Services)
		case diagnose.ResIngresses:
			o.Ingresses = typedAs(items, o.Ingresses)
		case diagnose.ResIngressClasses:
			o.IngressClasses = typedAs(items, o.IngressClasses)
		case diagnose.ResPVCs:
			o.PVCs = typedAs(items, o.PVCs)
		case diagnose.ResStorageClasses:
			o.StorageClasses = typedAs(items, o.StorageClasses)
		case diagnose.ResNodes:
			o.Nodes = typedAs(items, o.Nodes)
		case diagnose.ResDeployments:
			o.Deployments = typedAs(items, o.Deployments)
		case diagnose.ResReplicaSets:
			o.ReplicaSets = typedAs(items, o.ReplicaSets)
		case diagnose.ResStatefulSets:
			o.StatefulSets = typedAs(items, o.StatefulSets)
		case diagnose.ResDaemonSets:
			o.DaemonSets = typedAs(items, o.DaemonSets)
		case diagnose.ResJobs:
			o.Jobs = typedAs(items, o.Jobs)
		case diagnose.ResCronJobs:
			o.CronJobs = typedAs(items, o.CronJobs)
		case diagnose.ResHPAs:
			o.HPAs = typedAs(items, o.HPAs)
		case diagnose.ResSecrets:
			o.Secrets = typedAs(items, o.Secrets)
			o.HelmRecords = typedAs(c.helm.GetStore().List(), o.HelmRecords)
		case diagnose.ResConfigMaps:
			o.ConfigMaps = typedAs(items, o.ConfigMaps)
		}
	}
	return o
}

// typedAs converts a store's items to the type of like (which only names
// the type). Stores of one informer hold one type; anything else (never
// seen) is skipped rather than trusted.
func typedAs[T any](items []any, like []*T) []*T {
	_ = like
	out := make([]*T, 0, len(items))
	for _, it := range items {
		if t, ok := it.(*T); ok {
			out = append(out, t)
		}
	}
	return out
}

// countsOf counts objects by resource, for the synced event and metrics.
func countsOf(o *diagnose.Objects) map[string]int {
	counts := map[string]int{}
	add := func(r diagnose.Resource, n int) {
		if n > 0 {
			counts[string(r)] += n
		}
	}
	add(diagnose.ResPods, len(o.Pods))
	add(diagnose.ResEvents, len(o.Events))
	add(diagnose.ResServices, len(o.Services))
	add(diagnose.ResIngresses, len(o.Ingresses))
	add(diagnose.ResIngressClasses, len(o.IngressClasses))
	add(diagnose.ResPVCs, len(o.PVCs))
	add(diagnose.ResStorageClasses, len(o.StorageClasses))
	add(diagnose.ResNodes, len(o.Nodes))
	add(diagnose.ResDeployments, len(o.Deployments))
	add(diagnose.ResReplicaSets, len(o.ReplicaSets))
	add(diagnose.ResStatefulSets, len(o.StatefulSets))
	add(diagnose.ResDaemonSets, len(o.DaemonSets))
	add(diagnose.ResJobs, len(o.Jobs))
	add(diagnose.ResCronJobs, len(o.CronJobs))
	add(diagnose.ResHPAs, len(o.HPAs))
	add(diagnose.ResSecrets, len(o.Secrets)+len(o.HelmRecords))
	add(diagnose.ResConfigMaps, len(o.ConfigMaps))
	return counts
}

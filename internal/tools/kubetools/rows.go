package kubetools

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsagent/opsagent/internal/redact"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Row is one object in a listing, with the columns `kubectl get` shows for
// its kind. Columns that do not apply to a kind are left out of the JSON.
// Values are strings, as kubectl prints them ("1/1", "3 (5m ago)").
type Row struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Pods, workloads.
	Ready     string `json:"ready,omitempty"`
	Status    string `json:"status,omitempty"`
	Restarts  string `json:"restarts,omitempty"`
	Node      string `json:"node,omitempty"`
	Desired   string `json:"desired,omitempty"`
	Current   string `json:"current,omitempty"`
	UpToDate  string `json:"upToDate,omitempty"`
	Available string `json:"available,omitempty"`
	// Jobs and cronjobs.
	Completions  string `json:"completions,omitempty"`
	Duration     string `json:"duration,omitempty"`
	Schedule     string `json:"schedule,omitempty"`
	Suspend      string `json:"suspend,omitempty"`
	Active       string `json:"active,omitempty"`
	LastSchedule string `json:"lastSchedule,omitempty"`
	// Services and ingresses.
	Type       string `json:"type,omitempty"`
	ClusterIP  string `json:"clusterIP,omitempty"`
	ExternalIP string `json:"externalIP,omitempty"`
	Ports      string `json:"ports,omitempty"`
	Class      string `json:"class,omitempty"`
	Hosts      string `json:"hosts,omitempty"`
	Address    string `json:"address,omitempty"`
	// Config and storage.
	Data          string `json:"data,omitempty"`
	Volume        string `json:"volume,omitempty"`
	Capacity      string `json:"capacity,omitempty"`
	AccessModes   string `json:"accessModes,omitempty"`
	StorageClass  string `json:"storageClass,omitempty"`
	ReclaimPolicy string `json:"reclaimPolicy,omitempty"`
	Claim         string `json:"claim,omitempty"`
	// Nodes.
	Roles   string `json:"roles,omitempty"`
	Version string `json:"version,omitempty"`
	// Events.
	LastSeen string `json:"lastSeen,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Object   string `json:"object,omitempty"`
	Message  string `json:"message,omitempty"`
	Count    string `json:"count,omitempty"`
	// HorizontalPodAutoscalers.
	Reference string `json:"reference,omitempty"`
	MinPods   string `json:"minPods,omitempty"`
	MaxPods   string `json:"maxPods,omitempty"`
	Replicas  string `json:"replicas,omitempty"`

	Age string `json:"age"`
}

// rowFuncs build rows for the kinds with kubectl-like columns; every other
// kind gets name, namespace and age.
var rowFuncs = map[schema.GroupKind]func(*unstructured.Unstructured) (Row, error){
	{Kind: "Pod"}:                                           typedRow(podRow),
	{Group: "apps", Kind: "Deployment"}:                     typedRow(deploymentRow),
	{Group: "apps", Kind: "StatefulSet"}:                    typedRow(statefulSetRow),
	{Group: "apps", Kind: "DaemonSet"}:                      typedRow(daemonSetRow),
	{Group: "apps", Kind: "ReplicaSet"}:                     typedRow(replicaSetRow),
	{Group: "batch", Kind: "Job"}:                           typedRow(jobRow),
	{Group: "batch", Kind: "CronJob"}:                       typedRow(cronJobRow),
	{Kind: "Service"}:                                       typedRow(serviceRow),
	{Group: "networking.k8s.io", Kind: "Ingress"}:           typedRow(ingressRow),
	{Kind: "ConfigMap"}:                                     typedRow(configMapRow),
	{Kind: "Secret"}:                                        typedRow(secretRow),
	{Kind: "PersistentVolumeClaim"}:                         typedRow(pvcRow),
	{Kind: "PersistentVolume"}:                              typedRow(pvRow),
	{Kind: "Node"}:                                          typedRow(nodeRow),
	{Kind: "Event"}:                                         typedRow(eventRowOf),
	{Kind: "Namespace"}:                                     typedRow(namespaceRow),
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}: typedRow(hpaRow),
}

// typedRow converts the unstructured object to its Go type before building
// the row, so row code reads typed fields instead of nested maps.
func typedRow[T any](f func(*T) Row) func(*unstructured.Unstructured) (Row, error) {
	return func(u *unstructured.Unstructured) (Row, error) {
		obj := new(T)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
			return Row{}, err
		}
		return f(obj), nil
	}
}

// rowOf builds the row for any object, falling back to the generic columns
// when the kind has no row function or its object does not convert.
func rowOf(u *unstructured.Unstructured) Row {
	if f, ok := rowFuncs[u.GroupVersionKind().GroupKind()]; ok {
		if r, err := f(u); err == nil {
			return r
		}
	}
	return Row{Name: u.GetName(), Namespace: u.GetNamespace(), Age: age(u.GetCreationTimestamp())}
}

func baseRow(m *metav1.ObjectMeta) Row {
	return Row{Name: m.Name, Namespace: m.Namespace, Age: age(m.CreationTimestamp)}
}

// age renders how long ago t was the way kubectl does ("5m", "3d2h").
func age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

func itoa[T ~int | ~int32 | ~int64](v T) string { return strconv.FormatInt(int64(v), 10) }

func ratio[T ~int | ~int32](a, b T) string { return itoa(a) + "/" + itoa(b) }

func replicasOr1(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func deploymentRow(d *appsv1.Deployment) Row {
	r := baseRow(&d.ObjectMeta)
	r.Ready = ratio(d.Status.ReadyReplicas, replicasOr1(d.Spec.Replicas))
	r.UpToDate = itoa(d.Status.UpdatedReplicas)
	r.Available = itoa(d.Status.AvailableReplicas)
	return r
}

func statefulSetRow(s *appsv1.StatefulSet) Row {
	r := baseRow(&s.ObjectMeta)
	r.Ready = ratio(s.Status.ReadyReplicas, replicasOr1(s.Spec.Replicas))
	return r
}

func daemonSetRow(d *appsv1.DaemonSet) Row {
	r := baseRow(&d.ObjectMeta)
	s := d.Status
	r.Desired, r.Current, r.Ready = itoa(s.DesiredNumberScheduled), itoa(s.CurrentNumberScheduled), itoa(s.NumberReady)
	r.UpToDate, r.Available = itoa(s.UpdatedNumberScheduled), itoa(s.NumberAvailable)
	return r
}

func replicaSetRow(rs *appsv1.ReplicaSet) Row {
	r := baseRow(&rs.ObjectMeta)
	r.Desired, r.Current, r.Ready = itoa(replicasOr1(rs.Spec.Replicas)), itoa(rs.Status.Replicas), itoa(rs.Status.ReadyReplicas)
	return r
}

func jobRow(j *batchv1.Job) Row {
	r := baseRow(&j.ObjectMeta)
	r.Status = "Running"
	for _, c := range j.Status.Conditions {
		if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed || c.Type == batchv1.JobSuspended) {
			r.Status = string(c.Type)
			if c.Type == batchv1.JobFailed && c.Reason != "" {
				r.Status += ": " + c.Reason
			}
		}
	}
	completions := int32(1)
	if j.Spec.Completions != nil {
		completions = *j.Spec.Completions
	}
	r.Completions = ratio(j.Status.Succeeded, completions)
	if st := j.Status.StartTime; st != nil {
		end := time.Now()
		if ct := j.Status.CompletionTime; ct != nil {
			end = ct.Time
		}
		r.Duration = duration.HumanDuration(end.Sub(st.Time))
	}
	return r
}

func cronJobRow(cj *batchv1.CronJob) Row {
	r := baseRow(&cj.ObjectMeta)
	r.Schedule = cj.Spec.Schedule
	r.Suspend = strconv.FormatBool(cj.Spec.Suspend != nil && *cj.Spec.Suspend)
	r.Active = itoa(len(cj.Status.Active))
	r.LastSchedule = "<none>"
	if t := cj.Status.LastScheduleTime; t != nil {
		r.LastSchedule = age(*t)
	}
	return r
}

func serviceRow(s *corev1.Service) Row {
	r := baseRow(&s.ObjectMeta)
	r.Type, r.ClusterIP = string(s.Spec.Type), s.Spec.ClusterIP
	ext := s.Spec.ExternalIPs
	for _, in := range s.Status.LoadBalancer.Ingress {
		ext = append(ext, cmp.Or(in.IP, in.Hostname))
	}
	r.ExternalIP = "<none>"
	if len(ext) > 0 {
		r.ExternalIP = strings.Join(ext, ",")
	} else if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
		r.ExternalIP = "<pending>"
	} else if s.Spec.Type == corev1.ServiceTypeExternalName {
		r.ExternalIP = s.Spec.ExternalName
	}
	ports := make([]string, len(s.Spec.Ports))
	for i, p := range s.Spec.Ports {
		ports[i] = itoa(p.Port)
		if p.NodePort != 0 {
			ports[i] += ":" + itoa(p.NodePort)
		}
		ports[i] += "/" + string(p.Protocol)
	}
	r.Ports = strings.Join(ports, ",")
	return r
}

func ingressRow(in *networkingv1.Ingress) Row {
	r := baseRow(&in.ObjectMeta)
	if in.Spec.IngressClassName != nil {
		r.Class = *in.Spec.IngressClassName
	}
	var hosts []string
	for _, rule := range in.Spec.Rules {
		hosts = append(hosts, cmp.Or(rule.Host, "*"))
	}
	r.Hosts = strings.Join(hosts, ",")
	var addrs []string
	for _, lb := range in.Status.LoadBalancer.Ingress {
		addrs = append(addrs, cmp.Or(lb.IP, lb.Hostname))
	}
	r.Address = strings.Join(addrs, ",")
	r.Ports = "80"
	if len(in.Spec.TLS) > 0 {
		r.Ports = "80, 443"
	}
	return r
}

func configMapRow(cm *corev1.ConfigMap) Row {
	r := baseRow(&cm.ObjectMeta)
	r.Data = itoa(len(cm.Data) + len(cm.BinaryData))
	return r
}

// secretRow shows the type and the number of keys, never the data.
func secretRow(s *corev1.Secret) Row {
	r := baseRow(&s.ObjectMeta)
	r.Type, r.Data = string(s.Type), itoa(len(s.Data))
	return r
}

func accessModes(modes []corev1.PersistentVolumeAccessMode) string {
	short := map[corev1.PersistentVolumeAccessMode]string{
		corev1.ReadWriteOnce: "RWO", corev1.ReadOnlyMany: "ROX", corev1.ReadWriteMany: "RWX", corev1.ReadWriteOncePod: "RWOP",
	}
	out := make([]string, len(modes))
	for i, m := range modes {
		out[i] = cmp.Or(short[m], string(m))
	}
	return strings.Join(out, ",")
}

func pvcRow(p *corev1.PersistentVolumeClaim) Row {
	r := baseRow(&p.ObjectMeta)
	r.Status, r.Volume = string(p.Status.Phase), p.Spec.VolumeName
	if q, ok := p.Status.Capacity[corev1.ResourceStorage]; ok {
		r.Capacity = q.String()
	}
	r.AccessModes = accessModes(p.Status.AccessModes)
	if p.Spec.StorageClassName != nil {
		r.StorageClass = *p.Spec.StorageClassName
	}
	return r
}

func pvRow(p *corev1.PersistentVolume) Row {
	r := baseRow(&p.ObjectMeta)
	if q, ok := p.Spec.Capacity[corev1.ResourceStorage]; ok {
		r.Capacity = q.String()
	}
	r.AccessModes = accessModes(p.Spec.AccessModes)
	r.ReclaimPolicy, r.Status, r.StorageClass = string(p.Spec.PersistentVolumeReclaimPolicy), string(p.Status.Phase), p.Spec.StorageClassName
	if ref := p.Spec.ClaimRef; ref != nil {
		r.Claim = ref.Namespace + "/" + ref.Name
	}
	return r
}

func nodeRow(n *corev1.Node) Row {
	r := baseRow(&n.ObjectMeta)
	r.Status = "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			r.Status = "NotReady"
			if c.Status == corev1.ConditionTrue {
				r.Status = "Ready"
			}
		}
	}
	if n.Spec.Unschedulable {
		r.Status += ",SchedulingDisabled"
	}
	var roles []string
	for k := range n.Labels {
		if role, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok && role != "" {
			roles = append(roles, role)
		}
	}
	slices.Sort(roles)
	r.Roles = cmp.Or(strings.Join(roles, ","), "<none>")
	r.Version = n.Status.NodeInfo.KubeletVersion
	return r
}

func namespaceRow(ns *corev1.Namespace) Row {
	r := baseRow(&ns.ObjectMeta)
	r.Status = string(ns.Status.Phase)
	return r
}

func hpaRow(h *autoscalingv2.HorizontalPodAutoscaler) Row {
	r := baseRow(&h.ObjectMeta)
	r.Reference = h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name
	r.MinPods = itoa(replicasOr1(h.Spec.MinReplicas))
	r.MaxPods = itoa(h.Spec.MaxReplicas)
	r.Replicas = itoa(h.Status.CurrentReplicas)
	return r
}

// eventRowOf is the listing row of one event.
func eventRowOf(e *corev1.Event) Row {
	r, ev := baseRow(&e.ObjectMeta), eventRow(e)
	r.LastSeen, r.Type, r.Reason, r.Object, r.Message = ev.LastSeen, ev.Type, ev.Reason, ev.Object, ev.Message
	if ev.Count > 1 {
		r.Count = itoa(ev.Count)
	}
	return r
}

// maxMessageLen bounds event and condition messages; the start says what
// went wrong, the rest is usually a stack of repeats.
const maxMessageLen = 300

// truncate cuts s to at most n bytes on a rune boundary (redact.Truncate,
// the one rune-safe cut), marking how much was left out.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := redact.Truncate(s, n)
	return cut + fmt.Sprintf("… (%d bytes more)", len(s)-len(cut))
}

package preflight

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Annotations that mark the default StorageClass and IngressClass.
const (
	DefaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	BetaDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
	DefaultIngressClassAnnotation     = "ingressclass.kubernetes.io/is-default-class"
)

// Fixes for a minikube cluster, also printed for other clusters since they
// name what is missing.
const (
	fixStorage = "Enable minikube's storage addons: `minikube addons enable default-storageclass storage-provisioner` (on other clusters, install a provisioner and mark its class with the annotation " + DefaultStorageClassAnnotation + "=true), or install with --set postgresql.persistence.enabled=false (data is lost with the pod)."
	fixIngress = "Enable minikube's ingress controller: `minikube addons enable ingress` (it creates the IngressClass nginx), or install with --set ingress.enabled=false and reach the frontend with `kubectl port-forward`."
)

func checkVersion(s *Snapshot, req Requirements) Result {
	r := Result{Name: CheckVersion}
	if req.KubeVersion == "" {
		r.OK, r.Detail = true, s.ServerVersion+" (the chart sets no kubeVersion)"
		return r
	}
	c, err := semver.NewConstraint(req.KubeVersion)
	if err != nil {
		r.Detail = fmt.Sprintf("the chart's kubeVersion %q is not a valid constraint: %v", req.KubeVersion, err)
		r.Fix = "Fix kubeVersion in the chart's Chart.yaml."
		return r
	}
	v, err := semver.NewVersion(s.ServerVersion)
	if err != nil {
		r.Detail = fmt.Sprintf("cannot parse the server version %q: %v", s.ServerVersion, err)
		r.Fix = "Check `kubectl version`; the server must report a semantic version."
		return r
	}
	if !c.Check(v) {
		r.Detail = fmt.Sprintf("%s does not satisfy the chart's kubeVersion %s", s.ServerVersion, req.KubeVersion)
		r.Fix = fmt.Sprintf("Use a newer cluster: `minikube delete && minikube start --kubernetes-version=stable --cpus 2 --memory 4096` (needs %s).", req.KubeVersion)
		return r
	}
	r.OK, r.Detail = true, fmt.Sprintf("%s satisfies %s", s.ServerVersion, req.KubeVersion)
	return r
}

// checkResources compares the chart's total requests with what the Ready,
// schedulable nodes have left: their allocatable minus the requests of the
// pods already running on them.
func checkResources(s *Snapshot, req Requirements) Result {
	r := Result{Name: CheckResources}
	var allocCPU, allocMem, usedCPU, usedMem resource.Quantity
	usable := map[string]bool{}
	for _, n := range s.Nodes {
		if !nodeUsable(n) {
			continue
		}
		usable[n.Name] = true
		allocCPU.Add(n.Status.Allocatable[corev1.ResourceCPU])
		allocMem.Add(n.Status.Allocatable[corev1.ResourceMemory])
	}
	for _, p := range s.Pods {
		if !usable[p.Spec.NodeName] || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		cpu, mem := podRequests(p.Spec)
		usedCPU.Add(cpu)
		usedMem.Add(mem)
	}
	if len(usable) == 0 {
		r.Detail = fmt.Sprintf("no Ready, schedulable node among %d node(s)", len(s.Nodes))
		r.Fix = "Check `kubectl get nodes`; uncordon a node (`kubectl uncordon NODE`) or restart the cluster (`minikube start --cpus 2 --memory 4096`)."
		return r
	}
	freeCPU, freeMem := allocCPU.DeepCopy(), allocMem.DeepCopy()
	freeCPU.Sub(usedCPU)
	freeMem.Sub(usedMem)
	r.Detail = fmt.Sprintf("chart requests %s CPU, %s memory; %d node(s) have %s CPU, %s free (of %s CPU, %s allocatable)",
		milli(req.CPU), mebi(req.Memory), len(usable), milli(freeCPU), mebi(freeMem), milli(allocCPU), mebi(allocMem))
	var short []string
	if req.CPU.Cmp(freeCPU) > 0 {
		short = append(short, "CPU")
	}
	if req.Memory.Cmp(freeMem) > 0 {
		short = append(short, "memory")
	}
	if len(short) == 0 {
		r.OK = true
		return r
	}
	r.Detail = "not enough " + strings.Join(short, " and ") + ": " + r.Detail
	// Size a new minikube for what runs now plus the chart, with 25% headroom.
	cpus := max(2, int(math.Ceil(float64(usedCPU.MilliValue()+req.CPU.MilliValue())*1.25/1000)))
	memMiB := max(4096, roundUp(int((usedMem.Value()+req.Memory.Value())*5/4>>20), 1024))
	r.Fix = fmt.Sprintf("Lower the requests or replicas with --set (e.g. backend.replicaCount, frontend.replicaCount, *.resources.requests), or give the cluster more room; minikube cannot resize a running cluster: `minikube delete && minikube start --cpus %d --memory %d`.", cpus, memMiB)
	return r
}

func nodeUsable(n corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			return false
		}
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func checkStorageClass(s *Snapshot, req Requirements) Result {
	r := Result{Name: CheckStorageClass}
	var defaults []string
	names := map[string]bool{}
	for _, sc := range s.StorageClasses {
		names[sc.Name] = true
		if sc.Annotations[DefaultStorageClassAnnotation] == "true" || sc.Annotations[BetaDefaultStorageClassAnnotation] == "true" {
			defaults = append(defaults, sc.Name)
		}
	}
	slices.Sort(defaults)
	defaultDetail := "no default StorageClass (annotation " + DefaultStorageClassAnnotation + "=true)"
	if len(defaults) > 0 {
		defaultDetail = "default StorageClass " + strings.Join(defaults, ", ")
	}
	if len(req.StorageClasses) == 0 {
		r.OK, r.Detail = true, "the chart creates no PersistentVolumeClaim; "+defaultDetail
		return r
	}
	var missing []string
	for _, want := range req.StorageClasses {
		switch {
		case want == "" && len(defaults) == 0:
			missing = append(missing, "a default StorageClass")
		case want != "" && !names[want]:
			missing = append(missing, "StorageClass "+want)
		}
	}
	if len(missing) > 0 {
		r.Detail = "missing " + strings.Join(slices.Compact(missing), ", ") + " for the chart's PersistentVolumeClaim; " + defaultDetail
		r.Fix = fixStorage
		if len(defaults) > 0 {
			r.Fix = fmt.Sprintf("Use the cluster's default StorageClass: --set postgresql.persistence.storageClass=%s (or create the missing class).", defaults[0])
		}
		return r
	}
	r.OK, r.Detail = true, "PersistentVolumeClaim can bind; "+defaultDetail
	return r
}

func checkIngressClass(s *Snapshot, req Requirements) Result {
	r := Result{Name: CheckIngressClass}
	if len(req.IngressClasses) == 0 {
		r.OK, r.Detail = true, "ingress disabled; nothing to check"
		return r
	}
	var defaults []string
	names := map[string]bool{}
	for _, ic := range s.IngressClasses {
		names[ic.Name] = true
		if ic.Annotations[DefaultIngressClassAnnotation] == "true" {
			defaults = append(defaults, ic.Name)
		}
	}
	var missing []string
	for _, want := range req.IngressClasses {
		switch {
		case want == "" && len(defaults) == 0:
			missing = append(missing, "a default IngressClass")
		case want != "" && !names[want]:
			missing = append(missing, "IngressClass "+want)
		}
	}
	if len(missing) > 0 {
		r.Detail = "missing " + strings.Join(slices.Compact(missing), ", ") + " for the chart's Ingress"
		r.Fix = fixIngress
		return r
	}
	have := slices.Sorted(maps.Keys(names))
	r.OK, r.Detail = true, "IngressClass found: "+strings.Join(have, ", ")
	return r
}

func milli(q resource.Quantity) string {
	return fmt.Sprintf("%dm", q.MilliValue())
}

func mebi(q resource.Quantity) string {
	return fmt.Sprintf("%dMi", q.Value()>>20)
}

func roundUp(n, step int) int { return (n + step - 1) / step * step }

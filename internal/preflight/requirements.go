package preflight

import (
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// Requirements are what the chart, rendered with the user's values, needs
// from the cluster.
type Requirements struct {
	// KubeVersion is the chart's kubeVersion constraint ("" for any).
	KubeVersion string `json:"kubeVersion,omitempty"`
	// CPU and Memory are the summed requests of every pod the chart runs
	// (replicas included); see podRequests for how one pod's are counted.
	CPU    resource.Quantity `json:"cpu"`
	Memory resource.Quantity `json:"memory"`
	// Workloads lists what was counted, e.g. "Deployment/x: 2 x (100m, 256Mi)".
	Workloads []string `json:"workloads,omitempty"`
	// StorageClasses are the classes the chart's PersistentVolumeClaims name;
	// "" means the claim relies on the default StorageClass.
	StorageClasses []string `json:"storageClasses,omitempty"`
	// IngressClasses are the classes the chart's Ingresses name; "" means the
	// default IngressClass.
	IngressClasses []string `json:"ingressClasses,omitempty"`
}

// previewRelease is the release name the chart is rendered under; names do
// not change what it requests.
const previewRelease = "preflight"

// FallbackKubeVersion is the Kubernetes version the chart is rendered for
// when the cluster's version is unknown or outside the chart's kubeVersion
// (which the version check reports on its own).
const FallbackKubeVersion = "v1.27.0"

// RequirementsFor renders ch with vals the way `helm template` does (no
// cluster access, hooks such as `helm test` pods left out) and reads the
// requirements from the rendered objects. kubeVersion is the cluster's
// version the templates see ("" for FallbackKubeVersion).
func RequirementsFor(ch *chart.Chart, vals map[string]any, kubeVersion string) (Requirements, error) {
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	kv, err := renderVersion(ch, kubeVersion)
	if err != nil {
		return Requirements{}, err
	}
	inst.KubeVersion = kv
	inst.ReleaseName = previewRelease
	inst.Namespace = "default"
	inst.DryRun = true
	inst.ClientOnly = true
	inst.Replace = true
	inst.DisableHooks = true
	rel, err := inst.Run(ch, vals)
	if err != nil {
		return Requirements{}, fmt.Errorf("render chart %s: %w", ch.Name(), err)
	}
	req, err := requirementsOf(rel.Manifest)
	if err != nil {
		return Requirements{}, err
	}
	if ch.Metadata != nil {
		req.KubeVersion = ch.Metadata.KubeVersion
	}
	return req, nil
}

// object holds the fields of a rendered object the checks read; workload
// kinds keep the pod template under spec.template, a Pod has it in spec.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Replicas *int32 `json:"replicas"`
		Template struct {
			Spec corev1.PodSpec `json:"spec"`
		} `json:"template"`
		// PersistentVolumeClaim.
		StorageClassName *string `json:"storageClassName"`
		// Ingress.
		IngressClassName *string `json:"ingressClassName"`
		// StatefulSet.
		VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates"`
	} `json:"spec"`
}

func requirementsOf(manifest string) (Requirements, error) {
	var req Requirements
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			return Requirements{}, fmt.Errorf("parse rendered manifest: %w", err)
		}
		replicas := int64(1)
		if o.Spec.Replicas != nil {
			replicas = int64(*o.Spec.Replicas)
		}
		switch o.Kind {
		case "Deployment", "StatefulSet", "ReplicaSet", "Job":
			add(&req, o.Kind+"/"+o.Metadata.Name, replicas, o.Spec.Template.Spec)
			for _, t := range o.Spec.VolumeClaimTemplates {
				req.StorageClasses = append(req.StorageClasses, deref(t.Spec.StorageClassName))
			}
		case "Pod":
			var p struct {
				Spec corev1.PodSpec `json:"spec"`
			}
			if err := yaml.Unmarshal([]byte(doc), &p); err != nil {
				return Requirements{}, fmt.Errorf("parse rendered pod %s: %w", o.Metadata.Name, err)
			}
			add(&req, "Pod/"+o.Metadata.Name, 1, p.Spec)
		case "PersistentVolumeClaim":
			// storageClassName: "" asks for a pre-created volume without a
			// class; only a missing field falls back to the default class.
			if sc := o.Spec.StorageClassName; sc == nil || *sc != "" {
				req.StorageClasses = append(req.StorageClasses, deref(sc))
			}
		case "Ingress":
			req.IngressClasses = append(req.IngressClasses, deref(o.Spec.IngressClassName))
		}
	}
	return req, nil
}

func add(req *Requirements, name string, replicas int64, spec corev1.PodSpec) {
	cpu, mem := podRequests(spec)
	req.Workloads = append(req.Workloads, fmt.Sprintf("%s: %d x (%s CPU, %s)", name, replicas, cpu.String(), mem.String()))
	for range replicas {
		req.CPU.Add(cpu)
		req.Memory.Add(mem)
	}
}

// podRequests is what the scheduler reserves for one pod: the sum of its
// containers' requests (sidecar init containers, restartPolicy Always,
// included), or the largest request of a regular init container if that is
// higher, since init containers run one at a time before the app starts.
func podRequests(spec corev1.PodSpec) (cpu, mem resource.Quantity) {
	for _, c := range spec.Containers {
		cpu.Add(c.Resources.Requests[corev1.ResourceCPU])
		mem.Add(c.Resources.Requests[corev1.ResourceMemory])
	}
	var initCPU, initMem resource.Quantity
	for _, c := range spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			cpu.Add(c.Resources.Requests[corev1.ResourceCPU])
			mem.Add(c.Resources.Requests[corev1.ResourceMemory])
			continue
		}
		if q := c.Resources.Requests[corev1.ResourceCPU]; q.Cmp(initCPU) > 0 {
			initCPU = q
		}
		if q := c.Resources.Requests[corev1.ResourceMemory]; q.Cmp(initMem) > 0 {
			initMem = q
		}
	}
	if initCPU.Cmp(cpu) > 0 {
		cpu = initCPU
	}
	if initMem.Cmp(mem) > 0 {
		mem = initMem
	}
	return cpu, mem
}

// renderVersion is kubeVersion if the chart accepts it, else
// FallbackKubeVersion.
func renderVersion(ch *chart.Chart, kubeVersion string) (*chartutil.KubeVersion, error) {
	if kubeVersion != "" && ch.Metadata != nil {
		if ch.Metadata.KubeVersion == "" || chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, kubeVersion) {
			if kv, err := chartutil.ParseKubeVersion(kubeVersion); err == nil {
				return kv, nil
			}
		}
	}
	kv, err := chartutil.ParseKubeVersion(FallbackKubeVersion)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", FallbackKubeVersion, err)
	}
	return kv, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

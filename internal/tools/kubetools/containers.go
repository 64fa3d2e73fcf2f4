package kubetools

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/opsagent/opsagent/internal/kubefmt"
	"github.com/opsagent/opsagent/internal/redact"
)

// ContainerInfo is a container's spec, cut to what explains its behaviour.
type ContainerInfo struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	// Role is "init" or "sidecar" for init containers.
	Role    string   `json:"role,omitempty"`
	Command string   `json:"command,omitempty"`
	Ports   []string `json:"ports,omitempty"`
	// Env lists NAME=value for literal values and NAME from <source> for
	// references. Secret references are never resolved.
	Env       []string `json:"env,omitempty"`
	EnvFrom   []string `json:"envFrom,omitempty"`
	Requests  string   `json:"requests,omitempty"`
	Limits    string   `json:"limits,omitempty"`
	Readiness string   `json:"readinessProbe,omitempty"`
	Liveness  string   `json:"livenessProbe,omitempty"`
	Startup   string   `json:"startupProbe,omitempty"`
}

// Output bounds for container specs.
const (
	maxEnvShown    = 30
	maxEnvValueLen = 120
	maxCommandLen  = 200
)

// containerInfos describes a pod template's containers, init containers first.
func containerInfos(spec *corev1.PodSpec) []ContainerInfo {
	out := make([]ContainerInfo, 0, len(spec.InitContainers)+len(spec.Containers))
	for i := range spec.InitContainers {
		ci := containerInfo(&spec.InitContainers[i])
		ci.Role = "init"
		if rp := spec.InitContainers[i].RestartPolicy; rp != nil && *rp == corev1.ContainerRestartPolicyAlways {
			ci.Role = "sidecar"
		}
		out = append(out, ci)
	}
	for i := range spec.Containers {
		out = append(out, containerInfo(&spec.Containers[i]))
	}
	return out
}

func containerInfo(c *corev1.Container) ContainerInfo {
	ci := ContainerInfo{
		Name:      c.Name,
		Image:     c.Image,
		Command:   truncate(strings.Join(slices.Concat(c.Command, c.Args), " "), maxCommandLen),
		Env:       envStrings(c.Env),
		Requests:  resourceString(c.Resources.Requests),
		Limits:    resourceString(c.Resources.Limits),
		Readiness: kubefmt.Probe(c.ReadinessProbe),
		Liveness:  kubefmt.Probe(c.LivenessProbe),
		Startup:   kubefmt.Probe(c.StartupProbe),
	}
	for _, p := range c.Ports {
		s := fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)
		if p.Name != "" {
			s = p.Name + " " + s
		}
		ci.Ports = append(ci.Ports, s)
	}
	for _, e := range c.EnvFrom {
		switch {
		case e.SecretRef != nil:
			ci.EnvFrom = append(ci.EnvFrom, "secretRef "+e.SecretRef.Name+prefixNote(e.Prefix))
		case e.ConfigMapRef != nil:
			ci.EnvFrom = append(ci.EnvFrom, "configMapRef "+e.ConfigMapRef.Name+prefixNote(e.Prefix))
		}
	}
	return ci
}

func prefixNote(p string) string {
	if p == "" {
		return ""
	}
	return " (prefix " + p + ")"
}

// envStrings renders env vars. Values that come from Secrets are shown as
// the reference only: the tool never reads a Secret's data, so nothing a
// model sees can leak it. Literal values under a secret-looking name are
// masked too.
func envStrings(env []corev1.EnvVar) []string {
	var out []string
	for i, e := range env {
		if i == maxEnvShown {
			out = append(out, fmt.Sprintf("… and %d more", len(env)-maxEnvShown))
			break
		}
		vf := e.ValueFrom
		switch {
		case vf == nil && redact.SecretKey(e.Name):
			// A literal credential in the pod spec (DB_PASSWORD=…): shown
			// to people and models as set, never as its value.
			out = append(out, e.Name+"="+redact.Redacted)
		case vf == nil:
			out = append(out, e.Name+"="+truncate(e.Value, maxEnvValueLen))
		case vf.SecretKeyRef != nil:
			out = append(out, fmt.Sprintf("%s from secretKeyRef %s/%s%s", e.Name, vf.SecretKeyRef.Name, vf.SecretKeyRef.Key, optionalNote(vf.SecretKeyRef.Optional)))
		case vf.ConfigMapKeyRef != nil:
			out = append(out, fmt.Sprintf("%s from configMapKeyRef %s/%s%s", e.Name, vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key, optionalNote(vf.ConfigMapKeyRef.Optional)))
		case vf.FieldRef != nil:
			out = append(out, e.Name+" from fieldRef "+vf.FieldRef.FieldPath)
		case vf.ResourceFieldRef != nil:
			out = append(out, e.Name+" from resourceFieldRef "+vf.ResourceFieldRef.Resource)
		default:
			out = append(out, e.Name+" from another source")
		}
	}
	return out
}

func optionalNote(opt *bool) string {
	if opt != nil && *opt {
		return " (optional)"
	}
	return ""
}

func resourceString(rl corev1.ResourceList) string {
	if len(rl) == 0 {
		return ""
	}
	parts := make([]string, 0, len(rl))
	for name, q := range rl {
		parts = append(parts, string(name)+"="+q.String())
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// volumeStrings names where a pod's volumes come from ("config: configMap
// app-config"); a missing ConfigMap, Secret or claim is a common reason for
// a pod stuck in ContainerCreating.
func volumeStrings(vols []corev1.Volume) []string {
	var out []string
	for _, v := range vols {
		var src string
		switch {
		case v.ConfigMap != nil:
			src = "configMap " + v.ConfigMap.Name
		case v.Secret != nil:
			src = "secret " + v.Secret.SecretName
		case v.PersistentVolumeClaim != nil:
			src = "pvc " + v.PersistentVolumeClaim.ClaimName
		case v.EmptyDir != nil:
			src = "emptyDir"
		case v.HostPath != nil:
			src = "hostPath " + v.HostPath.Path
		case v.Projected != nil:
			// The service account token every pod gets; not worth a line.
			if strings.HasPrefix(v.Name, "kube-api-access-") {
				continue
			}
			src = "projected"
		default:
			src = "other"
		}
		out = append(out, v.Name+": "+src)
	}
	return out
}

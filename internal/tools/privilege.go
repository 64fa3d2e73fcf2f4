package tools

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// privilegedKinds are the kinds whose objects grant or take away power over
// the cluster itself (by group, then kind). Creating, changing or deleting
// one needs --allow-privileged whatever namespace it is in.
var privilegedKinds = map[string]map[string]string{
	"rbac.authorization.k8s.io": {
		"Role":               "an RBAC Role grants permissions",
		"RoleBinding":        "an RBAC RoleBinding grants permissions",
		"ClusterRole":        "an RBAC ClusterRole grants permissions cluster-wide",
		"ClusterRoleBinding": "an RBAC ClusterRoleBinding grants permissions cluster-wide",
	},
	"admissionregistration.k8s.io": {
		"MutatingWebhookConfiguration":     "an admission webhook sees and can change every matching request",
		"ValidatingWebhookConfiguration":   "an admission webhook can refuse every matching request",
		"ValidatingAdmissionPolicy":        "an admission policy can refuse every matching request",
		"ValidatingAdmissionPolicyBinding": "an admission policy binding decides where a policy applies",
		"MutatingAdmissionPolicy":          "an admission policy can change every matching request",
		"MutatingAdmissionPolicyBinding":   "an admission policy binding decides where a policy applies",
	},
	"apiextensions.k8s.io": {
		"CustomResourceDefinition": "a CustomResourceDefinition changes the API the cluster serves",
	},
	"authentication.k8s.io": {
		"TokenRequest": "a TokenRequest mints a ServiceAccount token",
	},
	"certificates.k8s.io": {
		"CertificateSigningRequest": "a CertificateSigningRequest can mint cluster credentials",
	},
}

// podSecurityLabel prefixes the namespace labels Pod Security Admission reads.
const podSecurityLabel = "pod-security.kubernetes.io/"

// ClassifyObject returns why creating, changing or deleting obj needs the
// privileged opt-in (--allow-privileged), or nil when it does not. It looks
// at the object itself; cluster-scoped targets are judged by the gate.
func ClassifyObject(obj *unstructured.Unstructured) []string {
	if obj == nil {
		return nil
	}
	gvk := obj.GroupVersionKind()
	ref := strings.ToLower(gvk.Kind) + "/" + obj.GetName()
	var out []string
	if why, ok := privilegedKinds[gvk.Group][gvk.Kind]; ok {
		out = append(out, fmt.Sprintf("%s: %s", ref, why))
	}
	if gvk.Group == "" && gvk.Kind == "Secret" {
		if t, _, _ := unstructured.NestedString(obj.Object, "type"); t == "kubernetes.io/service-account-token" {
			out = append(out, ref+": a service-account-token Secret mints a ServiceAccount token")
		}
	}
	if gvk.Group == "" && gvk.Kind == "Namespace" {
		for k := range obj.GetLabels() {
			if strings.HasPrefix(k, podSecurityLabel) {
				out = append(out, fmt.Sprintf("%s: label %s changes which pods the namespace admits", ref, k))
			}
		}
	}
	if spec, path := podSpecOf(obj); spec != nil {
		for _, why := range podSpecPrivileges(spec) {
			out = append(out, fmt.Sprintf("%s: %s%s", ref, path, why))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// podSpecOf finds the pod spec of a pod or of any workload's pod template
// (deployment, statefulset, daemonset, job, replicaset, cronjob, and CRDs
// that follow the spec.template.spec convention).
func podSpecOf(obj *unstructured.Unstructured) (map[string]any, string) {
	paths := []struct {
		fields []string
		label  string
	}{
		{[]string{"spec", "jobTemplate", "spec", "template", "spec"}, "its pods "},
		{[]string{"spec", "template", "spec"}, "its pods "},
	}
	if obj.GetKind() == "Pod" && obj.GroupVersionKind().Group == "" {
		spec, _, _ := unstructured.NestedMap(obj.Object, "spec")
		return spec, ""
	}
	for _, p := range paths {
		if spec, ok, _ := unstructured.NestedMap(obj.Object, p.fields...); ok {
			return spec, p.label
		}
	}
	return nil, ""
}

// podSpecPrivileges lists what in a pod spec escapes the container: host
// namespaces, host paths, privileged containers and added capabilities.
func podSpecPrivileges(spec map[string]any) []string {
	var out []string
	for _, f := range []string{"hostNetwork", "hostPID", "hostIPC", "hostUsers"} {
		v, ok, _ := unstructured.NestedBool(spec, f)
		// hostUsers defaults to true; only hostUsers: false is safer, so it
		// is never a reason.
		if ok && v && f != "hostUsers" {
			out = append(out, "use "+f)
		}
	}
	vols, _, _ := unstructured.NestedSlice(spec, "volumes")
	for _, v := range vols {
		if m, ok := v.(map[string]any); ok {
			if hp, ok := m["hostPath"].(map[string]any); ok {
				out = append(out, fmt.Sprintf("mount the node's path %v (hostPath volume %v)", hp["path"], m["name"]))
			}
		}
	}
	for _, field := range []string{"initContainers", "containers", "ephemeralContainers"} {
		cs, _, _ := unstructured.NestedSlice(spec, field)
		for _, c := range cs {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			name := m["name"]
			if v, _, _ := unstructured.NestedBool(m, "securityContext", "privileged"); v {
				out = append(out, fmt.Sprintf("run container %v privileged", name))
			}
			if v, _, _ := unstructured.NestedBool(m, "securityContext", "allowPrivilegeEscalation"); v {
				out = append(out, fmt.Sprintf("let container %v escalate privileges", name))
			}
			if caps, _, _ := unstructured.NestedStringSlice(m, "securityContext", "capabilities", "add"); len(caps) > 0 {
				out = append(out, fmt.Sprintf("add capabilities %s to container %v", strings.Join(caps, ","), name))
			}
			ports, _, _ := unstructured.NestedSlice(m, "ports")
			for _, p := range ports {
				if pm, ok := p.(map[string]any); ok && pm["hostPort"] != nil {
					out = append(out, fmt.Sprintf("bind host port %v for container %v", pm["hostPort"], name))
				}
			}
		}
	}
	return out
}

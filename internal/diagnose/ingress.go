package diagnose

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Ingress rules.
const (
	RuleIngressClassMissing     = "IngressClassMissing"
	RuleIngressNoClass          = "IngressNoClass"
	RuleIngressBackendMissing   = "IngressBackendServiceMissing"
	RuleIngressBackendPort      = "IngressBackendPortMissing"
	RuleIngressTLSSecretMissing = "IngressTLSSecretMissing"
)

const (
	defaultIngressClassAnnotation = "ingressclass.kubernetes.io/is-default-class"
	legacyIngressClassAnnotation  = "kubernetes.io/ingress.class"
)

type ingressAnalyzer struct{}

var _ Analyzer = ingressAnalyzer{}

func (ingressAnalyzer) Kind() string { return "Ingress" }
func (ingressAnalyzer) Needs() []Resource {
	return needs(ResIngresses, ResIngressClasses, ResServices, ResSecrets)
}

func (ingressAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.Ingresses {
		ing := &s.Ingresses[i]
		if !s.inScope(&ing.ObjectMeta) {
			continue
		}
		r.Checked++
		r.Findings = append(r.Findings, checkIngress(s, ing)...)
	}
	return r
}

func checkIngress(s *Snapshot, ing *networkingv1.Ingress) []Finding {
	var out []Finding
	ref := refOf("Ingress", &ing.ObjectMeta)
	owners := s.owners(&ing.ObjectMeta)
	newFinding := func(rule string, sev Severity, key string) Finding {
		return Finding{Rule: rule, Severity: sev, Object: ref, Owners: owners, mergeKey: key}
	}
	classes := make([]string, 0, len(s.IngressClasses))
	var defaults []string
	for _, c := range s.IngressClasses {
		classes = append(classes, c.Name)
		if c.Annotations[defaultIngressClassAnnotation] == "true" {
			defaults = append(defaults, c.Name)
		}
	}
	if s.Listed(ResIngressClasses) {
		switch name := ing.Spec.IngressClassName; {
		case name != nil && !slices.Contains(classes, *name):
			f := newFinding(RuleIngressClassMissing, Critical, "")
			f.Summary = fmt.Sprintf("IngressClass %q does not exist", *name)
			f.Evidence.Status = []string{"spec.ingressClassName: " + *name, "IngressClasses in the cluster: " + listOrNone(classes)}
			f.Cause = "No ingress controller claims an Ingress whose class does not exist, so it is not served at all."
			f.Fixes = classFixes(ing, classes, defaults)
			out = append(out, f)
		case name == nil && ing.Annotations[legacyIngressClassAnnotation] == "" && len(defaults) == 0:
			f := newFinding(RuleIngressNoClass, Warning, "")
			f.Summary = "has no ingressClassName and the cluster has no default IngressClass"
			f.Evidence.Status = []string{"spec.ingressClassName: not set", "IngressClasses in the cluster: " + listOrNone(classes)}
			f.Cause = "Without a class, only a controller that takes class-less Ingresses serves it; most controllers do not, so it is probably not served."
			f.Fixes = classFixes(ing, classes, defaults)
			out = append(out, f)
		}
	}
	type backend struct {
		where string
		b     *networkingv1.IngressServiceBackend
	}
	var backends []backend
	if db := ing.Spec.DefaultBackend; db != nil && db.Service != nil {
		backends = append(backends, backend{"defaultBackend", db.Service})
	}
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			if p.Backend.Service != nil {
				backends = append(backends, backend{fmt.Sprintf("host %q path %q", cmp.Or(rule.Host, "*"), cmp.Or(p.Path, "/")), p.Backend.Service})
			}
		}
	}
	for _, b := range backends {
		svc := s.services[nsName{ing.Namespace, b.b.Name}]
		if svc == nil {
			f := newFinding(RuleIngressBackendMissing, Critical, "svc:"+b.b.Name)
			f.Summary = fmt.Sprintf("backend Service %q does not exist (%s)", b.b.Name, b.where)
			f.Evidence.Status = []string{fmt.Sprintf("%s → service %s", b.where, b.b.Name)}
			f.Cause = "Requests for this path are routed to a Service that does not exist, so the controller answers them with an error (503/404)."
			if near := closestService(s, ing.Namespace, b.b.Name); near != "" {
				f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("a Service with a similar name exists: %s", near))
				f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("Point the Ingress at Service %q", near),
					Command: shellf("kubectl edit ingress %s -n %s   # set backend.service.name: %s", ing.Name, ing.Namespace, near)})
			}
			f.Fixes = append(f.Fixes, Fix{Description: "or create the Service", Command: shellf("kubectl get services -n %s", ing.Namespace)})
			out = append(out, f)
			continue
		}
		if !servicePortExists(svc, b.b.Port) {
			port := b.b.Port.Name
			if port == "" {
				port = fmt.Sprint(b.b.Port.Number)
			}
			f := newFinding(RuleIngressBackendPort, Critical, "port:"+b.b.Name+":"+port)
			f.Summary = fmt.Sprintf("backend Service %q has no port %s (%s)", b.b.Name, port, b.where)
			f.Evidence.Status = []string{fmt.Sprintf("%s → service %s port %s", b.where, b.b.Name, port), "ports of the Service: " + servicePorts(svc)}
			f.Cause = "The Ingress routes to a Service port that the Service does not define, so the controller cannot forward the requests."
			f.Fixes = []Fix{{Description: "Use one of the Service's ports in the Ingress backend",
				Command: shellf("kubectl edit ingress %s -n %s   # backend.service.port: %s", ing.Name, ing.Namespace, servicePorts(svc))}}
			out = append(out, f)
		}
	}
	for _, tls := range ing.Spec.TLS {
		if tls.SecretName == "" {
			continue
		}
		info, known := s.secret(ing.Namespace, tls.SecretName)
		if !known {
			continue
		}
		switch {
		case info == nil:
			f := newFinding(RuleIngressTLSSecretMissing, Critical, "tls:"+tls.SecretName)
			f.Summary = fmt.Sprintf("TLS Secret %q does not exist", tls.SecretName)
			f.Evidence.Status = []string{fmt.Sprintf("spec.tls: hosts %s → secret %s", listOrNone(tls.Hosts), tls.SecretName)}
			f.Cause = "The controller has no certificate for these hosts, so it serves its default (self-signed) certificate and clients reject HTTPS."
			f.Fixes = []Fix{{Description: "Create the TLS Secret from the certificate and key (or let cert-manager issue it)",
				Command: shellf("kubectl create secret tls %s -n %s --cert=tls.crt --key=tls.key", tls.SecretName, ing.Namespace)}}
			out = append(out, f)
		case !info.keys[corev1.TLSCertKey] || !info.keys[corev1.TLSPrivateKeyKey]:
			f := newFinding(RuleIngressTLSSecretMissing, Critical, "tls:"+tls.SecretName)
			f.Summary = fmt.Sprintf("TLS Secret %q has no tls.crt/tls.key", tls.SecretName)
			f.Evidence.Status = []string{fmt.Sprintf("Secret %s has keys: %s", tls.SecretName, listOrNone(s.keysOf(ing.Namespace, ConfigRef{Kind: "Secret", Name: tls.SecretName})))}
			f.Cause = "An Ingress TLS Secret must hold tls.crt and tls.key; the controller cannot use this one."
			f.Fixes = []Fix{{Description: "Re-create it as a TLS Secret",
				Command: shellf("kubectl create secret tls %s -n %s --cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -", tls.SecretName, ing.Namespace)}}
			out = append(out, f)
		}
	}
	return out
}

func classFixes(ing *networkingv1.Ingress, classes, defaults []string) []Fix {
	target := ""
	switch {
	case len(defaults) == 1:
		target = defaults[0]
	case len(classes) == 1:
		target = classes[0]
	}
	if target == "" {
		return []Fix{{Description: "Install an ingress controller, or set spec.ingressClassName to the class of the one you have", Command: "kubectl get ingressclasses"}}
	}
	return []Fix{{Description: fmt.Sprintf("Use the IngressClass %q", target),
		Command: shellf("kubectl patch ingress %s -n %s --type merge -p %s", ing.Name, ing.Namespace,
			jsonText(map[string]any{"spec": map[string]any{"ingressClassName": target}}))}}
}

func servicePortExists(svc *corev1.Service, p networkingv1.ServiceBackendPort) bool {
	return slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool {
		if p.Name != "" {
			return sp.Name == p.Name
		}
		return sp.Port == p.Number
	})
}

func servicePorts(svc *corev1.Service) string {
	var parts []string
	for _, p := range svc.Spec.Ports {
		if p.Name != "" {
			parts = append(parts, fmt.Sprintf("%s (%d)", p.Name, p.Port))
		} else {
			parts = append(parts, fmt.Sprint(p.Port))
		}
	}
	return listOrNone(parts)
}

func closestService(s *Snapshot, ns, name string) string {
	for i := range s.Services {
		if svc := &s.Services[i]; svc.Namespace == ns && similar(svc.Name, name) {
			return svc.Name
		}
	}
	for i := range s.Services {
		if svc := &s.Services[i]; svc.Namespace == ns && nameMatches(name, svc.Name) {
			return svc.Name
		}
	}
	return ""
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return quoteList(xs, 10)
}

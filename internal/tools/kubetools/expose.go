package kubetools

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// ExposeArgs are expose's arguments.
type ExposeArgs struct {
	Kind        string `json:"kind,omitempty" enum:"deployment,statefulset,daemonset" description:"Optional"`
	Name        string `json:"name" description:"Workload name"`
	Namespace   string `json:"namespace,omitempty" description:"Default: current namespace"`
	ServiceName string `json:"service_name,omitempty" description:"Default: the workload name"`
	Port        int    `json:"port,omitempty" description:"Default: pod ports"`
	TargetPort  int    `json:"target_port,omitempty" description:"Default: port"`
	Type        string `json:"type,omitempty" enum:"ClusterIP,NodePort,LoadBalancer" description:"Default ClusterIP"`
}

var serviceTypes = []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer}

// Validate implements tools.Validator.
func (a ExposeArgs) Validate() error {
	if err := checkWorkloadArgs(a.Kind, a.Name, a.Namespace, 0, rolloutKinds); err != nil {
		return err
	}
	if a.ServiceName != "" {
		if errs := validation.IsDNS1035Label(a.ServiceName); len(errs) > 0 {
			return fmt.Errorf("service_name %q is not a valid Service name: %s", a.ServiceName, strings.Join(errs, "; "))
		}
	}
	if err := CheckRange("port", a.Port, 0, 65535); err != nil {
		return err
	}
	if err := CheckRange("target_port", a.TargetPort, 0, 65535); err != nil {
		return err
	}
	if a.Type != "" && !slices.Contains(serviceTypes, corev1.ServiceType(a.Type)) {
		return fmt.Errorf("type %q is not one of ClusterIP, NodePort, LoadBalancer", a.Type)
	}
	return nil
}

// ExposeResult reports the Service that was created or updated.
type ExposeResult struct {
	Service   string            `json:"service"`
	Namespace string            `json:"namespace"`
	Type      string            `json:"type"`
	ClusterIP string            `json:"clusterIP,omitempty"`
	Ports     []string          `json:"ports"`
	Selector  map[string]string `json:"selector"`
	Created   bool              `json:"created"`
	Message   string            `json:"message"`
}

// Expose declares expose.
func Expose(c *kube.Clients) tools.Tool {
	return tools.Define(NameExpose,
		"kubectl expose.",
		tools.Write,
		func(ctx context.Context, a ExposeArgs) (tools.Action, error) { return prepareExpose(ctx, c, a) })
}

func prepareExpose(ctx context.Context, c *kube.Clients, a ExposeArgs) (tools.Action, error) {
	w, err := findWorkload(ctx, c, a.Kind, a.Name, a.Namespace, rolloutKinds)
	if err != nil {
		return nil, err
	}
	ref, ns := w.ref, w.ref.Namespace
	selector, err := serviceSelector(ref, w.labelSelector())
	if err != nil {
		return nil, err
	}
	ports, err := servicePorts(ref, &w.template().Spec, a.Port, a.TargetPort)
	if err != nil {
		return nil, err
	}
	name := cmp.Or(a.ServiceName, ref.Name)
	if errs := validation.IsDNS1035Label(name); len(errs) > 0 {
		return nil, fmt.Errorf("%w: %q cannot name a Service (%s); give service_name", tools.ErrInvalidArgs, name, strings.Join(errs, "; "))
	}
	typ := corev1.ServiceType(cmp.Or(a.Type, string(corev1.ServiceTypeClusterIP)))
	desc := fmt.Sprintf("service/%s in %s", name, ns)
	targets := []tools.Target{{Kind: "Service", Namespace: ns, Name: name}}

	svcs := c.Typed.CoreV1().Services(ns)
	live, err := svcs.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       corev1.ServiceSpec{Type: typ, Selector: selector, Ports: ports},
		}
		plan := tools.Preview{
			Summary: fmt.Sprintf("%s: create %s selecting %s (pods of %s), ports %s", desc, typ, labels.FormatLabels(selector), ref, portsString(ports)),
			Targets: targets,
		}
		return tools.Mutation{Plan: plan, Apply: func(ctx context.Context) (any, error) {
			got, err := svcs.Create(ctx, svc, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				return nil, fmt.Errorf("%w: %s was created by someone else since you approved; re-run to see it", tools.ErrConflict, desc)
			}
			if err != nil {
				return nil, fmt.Errorf("create %s: %w", desc, err)
			}
			return exposeResult(got, true, desc+" created"), nil
		}}, nil
	case err != nil:
		return nil, fmt.Errorf("get %s: %w", desc, err)
	}

	if !maps.Equal(live.Spec.Selector, selector) {
		return nil, fmt.Errorf("%s already exists and selects %s, not %s (the pods of %s); choose another service_name, or change that Service deliberately (patch_object); nothing was changed",
			desc, labels.FormatLabels(live.Spec.Selector), labels.FormatLabels(selector), ref)
	}
	var changes []string
	if live.Spec.Type != typ {
		changes = append(changes, fmt.Sprintf("type %s → %s", live.Spec.Type, typ))
	}
	if !samePorts(live.Spec.Ports, ports) {
		changes = append(changes, fmt.Sprintf("ports %s → %s", portsString(live.Spec.Ports), portsString(ports)))
	}
	if len(changes) == 0 {
		return noChange(fmt.Sprintf("%s already exposes %s as %s on %s", desc, ref, typ, portsString(ports)), targets...), nil
	}
	plan := tools.Preview{Summary: fmt.Sprintf("%s: update: %s", desc, strings.Join(changes, "; ")), Targets: targets}
	previewed := tools.PreviewedAPIObject(live, desc, svcs, func(s *corev1.Service) any { return s.Spec })
	return tools.Mutation{Plan: plan, Apply: func(ctx context.Context) (any, error) {
		var got *corev1.Service
		err := tools.WriteAsPreviewed(ctx, previewed, "update "+desc, func(ctx context.Context, s *corev1.Service) error {
			setTypeAndPorts(s, typ, ports)
			var err error
			got, err = svcs.Update(ctx, s, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return nil, err
		}
		return exposeResult(got, false, desc+" updated: "+strings.Join(changes, "; ")), nil
	}}, nil
}

// serviceSelector is the workload's selector as a Service can hold it: a
// Service selects by labels only, so set-based expressions cannot be
// carried over (kubectl expose refuses them too).
func serviceSelector(ref workloadRef, sel *metav1.LabelSelector) (map[string]string, error) {
	if sel == nil || len(sel.MatchLabels) == 0 {
		return nil, fmt.Errorf("%w: %s selects its pods without matchLabels; a Service can only select by labels, so create one by hand (apply_objects) with a selector of your choosing",
			tools.ErrInvalidArgs, ref.describe())
	}
	if len(sel.MatchExpressions) > 0 {
		return nil, fmt.Errorf("%w: %s's selector has matchExpressions, which a Service cannot express; a Service on matchLabels alone (%s) might select other pods, so create it by hand (apply_objects) if that is what you want",
			tools.ErrInvalidArgs, ref.describe(), labels.FormatLabels(sel.MatchLabels))
	}
	return maps.Clone(sel.MatchLabels), nil
}

// containerPort is one port a pod declares.
type containerPort struct {
	Name     string
	Port     int32
	Protocol corev1.Protocol
}

// podPorts lists the pod's declared container ports, first occurrence of
// each number and protocol.
func podPorts(spec *corev1.PodSpec) []containerPort {
	var out []containerPort
	for _, ctr := range spec.Containers {
		for _, p := range ctr.Ports {
			cp := containerPort{Name: p.Name, Port: p.ContainerPort, Protocol: cmp.Or(p.Protocol, corev1.ProtocolTCP)}
			if !slices.ContainsFunc(out, func(o containerPort) bool { return o.Port == cp.Port && o.Protocol == cp.Protocol }) {
				out = append(out, cp)
			}
		}
	}
	return out
}

// servicePorts decides the Service's ports. Without port, every declared
// container port is exposed on its own number (named, as the API requires
// with several). With port, the target is target_port, else the pod's only
// port, else the declared port equal to port.
func servicePorts(ref workloadRef, spec *corev1.PodSpec, port, target int) ([]corev1.ServicePort, error) {
	declared := podPorts(spec)
	if port == 0 && target != 0 {
		port = target
	}
	if port == 0 {
		if len(declared) == 0 {
			return nil, fmt.Errorf("%w: the pods of %s declare no containerPort, so the port to expose is unknown; give port (and target_port if the container listens elsewhere)",
				tools.ErrInvalidArgs, ref.describe())
		}
		out := make([]corev1.ServicePort, len(declared))
		for i, d := range declared {
			out[i] = corev1.ServicePort{Port: d.Port, TargetPort: intstr.FromInt32(d.Port), Protocol: d.Protocol}
			if len(declared) > 1 || d.Name != "" {
				out[i].Name = cmp.Or(d.Name, strings.ToLower(string(d.Protocol))+"-"+strconv.Itoa(int(d.Port)))
			}
		}
		return out, nil
	}
	sp := corev1.ServicePort{Port: int32(port), Protocol: corev1.ProtocolTCP}
	same := slices.IndexFunc(declared, func(d containerPort) bool { return int(d.Port) == port })
	switch {
	case target != 0:
		sp.TargetPort = intstr.FromInt(target)
	case len(declared) == 1:
		sp.TargetPort, sp.Protocol = intstr.FromInt32(declared[0].Port), declared[0].Protocol
	case same >= 0:
		sp.TargetPort, sp.Protocol = intstr.FromInt(port), declared[same].Protocol
	case len(declared) == 0:
		sp.TargetPort = intstr.FromInt(port)
	default:
		names := make([]string, len(declared))
		for i, d := range declared {
			names[i] = strconv.Itoa(int(d.Port))
		}
		return nil, fmt.Errorf("%w: the pods of %s listen on several ports (%s) and none is %d; give target_port",
			tools.ErrInvalidArgs, ref.describe(), strings.Join(names, ", "), port)
	}
	return []corev1.ServicePort{sp}, nil
}

// samePorts compares the fields expose sets (the API fills in nodePorts).
func samePorts(a, b []corev1.ServicePort) bool {
	return slices.EqualFunc(a, b, func(x, y corev1.ServicePort) bool {
		return x.Name == y.Name && x.Port == y.Port && x.TargetPort == y.TargetPort &&
			cmp.Or(x.Protocol, corev1.ProtocolTCP) == cmp.Or(y.Protocol, corev1.ProtocolTCP)
	})
}

// setTypeAndPorts gives the Service s the type and ports expose decided,
// keeping the node ports it has where it can.
func setTypeAndPorts(s *corev1.Service, typ corev1.ServiceType, ports []corev1.ServicePort) {
	s.Spec.Ports = keepNodePorts(s.Spec.Ports, ports, typ)
	s.Spec.Type = typ
	if typ == corev1.ServiceTypeClusterIP {
		s.Spec.ExternalTrafficPolicy = ""
		s.Spec.AllocateLoadBalancerNodePorts = nil
	}
}

// keepNodePorts carries allocated nodePorts over to the new ports that
// keep their number, so clients using them are not broken needlessly.
func keepNodePorts(live, want []corev1.ServicePort, typ corev1.ServiceType) []corev1.ServicePort {
	out := slices.Clone(want)
	if typ == corev1.ServiceTypeClusterIP {
		return out
	}
	for i := range out {
		for _, l := range live {
			if l.Port == out[i].Port && cmp.Or(l.Protocol, corev1.ProtocolTCP) == out[i].Protocol {
				out[i].NodePort = l.NodePort
			}
		}
	}
	return out
}

// portsString renders ports as "80→8080/TCP, metrics 9090→9090/TCP".
func portsString(ports []corev1.ServicePort) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		s := fmt.Sprintf("%d→%s/%s", p.Port, p.TargetPort.String(), cmp.Or(p.Protocol, corev1.ProtocolTCP))
		if p.Name != "" {
			s = p.Name + " " + s
		}
		if p.NodePort != 0 {
			s += fmt.Sprintf(" (node port %d)", p.NodePort)
		}
		parts[i] = s
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func exposeResult(s *corev1.Service, created bool, msg string) *ExposeResult {
	ports := make([]string, len(s.Spec.Ports))
	for i := range s.Spec.Ports {
		ports[i] = portsString(s.Spec.Ports[i : i+1])
	}
	return &ExposeResult{
		Service: s.Name, Namespace: s.Namespace, Type: string(s.Spec.Type), ClusterIP: s.Spec.ClusterIP,
		Ports: ports, Selector: s.Spec.Selector, Created: created, Message: msg,
	}
}

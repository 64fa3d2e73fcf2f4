package diagnose

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Service rules.
const (
	RuleServiceNoEndpoints      = "ServiceNoEndpoints"
	RuleServiceNoReadyEndpoints = "ServiceNoReadyEndpoints"
	RuleServiceTargetPort       = "ServiceTargetPortMismatch"
)

// maxNearPods bounds the nearly matching pods a finding names.
const maxNearPods = 5

type serviceAnalyzer struct{}

var _ Analyzer = serviceAnalyzer{}

func (serviceAnalyzer) Kind() string      { return "Service" }
func (serviceAnalyzer) Needs() []Resource { return needs(ResServices, ResPods, ResEvents) }

func (serviceAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.Services {
		svc := &s.Services[i]
		if !s.inScope(&svc.ObjectMeta) {
			continue
		}
		r.Checked++
		r.Findings = append(r.Findings, checkService(s, svc)...)
	}
	return r
}

func checkService(s *Snapshot, svc *corev1.Service) []Finding {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || len(svc.Spec.Selector) == 0 {
		return nil // endpoints are managed by hand, or it points outside
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var matched, others []*corev1.Pod
	for _, p := range s.podsByNS[svc.Namespace] {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if sel.Matches(labels.Set(p.Labels)) {
			matched = append(matched, p)
		} else {
			others = append(others, p)
		}
	}
	// Settled pods are Ready endpoints: they are counted, and lend their
	// containers' ports, without being built; a Service that selects no pod
	// looks at them whole, for labels that nearly match.
	var settledMatched, settledOthers []*settledPod
	for _, sp := range s.settledByNS[svc.Namespace] {
		switch {
		case sp.class.phase != corev1.PodRunning:
		case sel.Matches(labels.Set(sp.class.labels)):
			settledMatched = append(settledMatched, sp)
		default:
			settledOthers = append(settledOthers, sp)
		}
	}
	ref := refOf("Service", &svc.ObjectMeta)
	owners := s.owners(&svc.ObjectMeta)
	selText := formatLabels(svc.Spec.Selector)
	if len(matched)+len(settledMatched) == 0 {
		return []Finding{noEndpoints(s, svc, ref, owners, sortedByName(slices.Concat(others, settledPods(settledOthers))))}
	}
	var out []Finding
	ready, failing := len(settledMatched), 0
	for _, p := range matched {
		if c := podCondition(p, corev1.PodReady); c != nil && c.Status == corev1.ConditionTrue {
			ready++
		} else if podFailing(s, p) {
			failing++
		}
	}
	total := len(matched) + len(settledMatched)
	if ready == 0 && failing > 0 {
		f := Finding{Rule: RuleServiceNoReadyEndpoints, Severity: Critical, Object: ref, Owners: owners}
		f.Summary = fmt.Sprintf("none of the %s its selector %s matches is Ready", plural(total, "pod", "pods"), selText)
		f.Evidence.Status = []string{"selector: " + selText, fmt.Sprintf("matching pods: %d, ready: 0, failing: %d", total, failing)}
		f.Cause = "The Service has pods but none is Ready, so it has no endpoints and connections to it fail. The pods' findings say why they are not Ready."
		f.Fixes = []Fix{{Description: "See the pods behind the Service", Command: shellf("kubectl get pods -n %s -l %s", svc.Namespace, selText)}}
		out = append(out, f)
	}
	return append(out, checkTargetPorts(svc, ref, owners, podSpecsByName(matched, settledMatched))...)
}

// sortedByName sorts pods of one namespace by name, the order they are
// listed in, whichever way they were kept.
func sortedByName(pods []*corev1.Pod) []*corev1.Pod {
	slices.SortFunc(pods, func(a, b *corev1.Pod) int { return cmp.Compare(a.Name, b.Name) })
	return pods
}

// podSpecsByName returns the specs of whole and settled pods of one
// namespace in name order.
func podSpecsByName(pods []*corev1.Pod, settled []*settledPod) []*corev1.PodSpec {
	type named struct {
		name string
		spec *corev1.PodSpec
	}
	all := make([]named, 0, len(pods)+len(settled))
	for _, p := range pods {
		all = append(all, named{p.Name, &p.Spec})
	}
	for _, sp := range settled {
		all = append(all, named{sp.name, &sp.class.shape.spec})
	}
	slices.SortFunc(all, func(a, b named) int { return cmp.Compare(a.name, b.name) })
	out := make([]*corev1.PodSpec, len(all))
	for i, n := range all {
		out[i] = n.spec
	}
	return out
}

func noEndpoints(s *Snapshot, svc *corev1.Service, ref ObjectRef, owners []ObjectRef, others []*corev1.Pod) Finding {
	selText := formatLabels(svc.Spec.Selector)
	f := Finding{Rule: RuleServiceNoEndpoints, Severity: Critical, Object: ref, Owners: owners}
	f.Summary = fmt.Sprintf("has no endpoints: its selector %s matches no pod", selText)
	f.Evidence.Status = []string{"selector: " + selText}
	near := nearPods(svc.Spec.Selector, others)
	for i, n := range near {
		if i == maxNearPods {
			f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("… and %d more nearly matching pods", len(near)-maxNearPods))
			break
		}
		f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("pod %s nearly matches: %s", n.pod.Name, n.diff))
	}
	if len(near) > 0 {
		f.Summary += fmt.Sprintf("; %s nearly match (%s)", plural(len(near), "pod", "pods"), near[0].diff)
		f.Cause = "The Service selects pods by label, and no pod carries exactly these labels: the selector and the pods' labels differ (a typo, or a label renamed on one side). Connections to the Service fail."
		if patch, ok := selectorPatch(near); ok {
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("Make the Service select the pods %s", near[0].pod.Name),
				Command: shellf("kubectl patch service %s -n %s --type merge -p %s", svc.Name, svc.Namespace, patch)})
		}
		f.Fixes = append(f.Fixes, Fix{Description: "or change the labels in the workload's pod template to match the selector"})
		return f
	}
	var scaled []string
	for i := range s.Deployments {
		d := &s.Deployments[i]
		if d.Namespace == svc.Namespace && d.Spec.Replicas != nil && *d.Spec.Replicas == 0 &&
			labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			scaled = append(scaled, d.Name)
		}
	}
	if len(scaled) > 0 {
		f.Cause = fmt.Sprintf("The pods it selects belong to deployment %s, which is scaled to 0 replicas.", scaled[0])
		f.Fixes = []Fix{{Description: "Scale the Deployment up", Command: shellf("kubectl scale deployment/%s -n %s --replicas=1", scaled[0], svc.Namespace)}}
		return f
	}
	f.Cause = "No pod in the namespace carries the Service's selector labels: the workload behind it is not deployed, or the selector is wrong. Connections to the Service fail."
	f.Fixes = []Fix{
		{Description: "Compare the selector with the pods' labels", Command: shellf("kubectl get pods -n %s --show-labels", svc.Namespace)},
	}
	return f
}

// nearPod is a pod whose labels miss the selector by one label.
type nearPod struct {
	pod  *corev1.Pod
	diff string
	// fix is the selector change that would select this pod.
	fix map[string]any
}

// nearPods returns the pods whose labels match all of selector but one
// label, where that label is close: the same key with a similar value, a
// similar key with the same value, or (for selectors of two or more labels)
// simply missing.
func nearPods(selector map[string]string, pods []*corev1.Pod) []nearPod {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range selector {
			if !yield(k) {
				return
			}
		}
	})
	var out []nearPod
	for _, p := range pods {
		var miss []string
		for _, k := range keys {
			if v, ok := p.Labels[k]; !ok || v != selector[k] {
				miss = append(miss, k)
			}
		}
		if len(miss) != 1 {
			continue
		}
		k, want := miss[0], selector[miss[0]]
		if have, ok := p.Labels[k]; ok {
			if similar(have, want) || len(keys) > 1 {
				out = append(out, nearPod{pod: p, diff: fmt.Sprintf("it has %s=%s, the Service wants %s=%s", k, have, k, want), fix: map[string]any{k: have}})
			}
			continue
		}
		if k2 := keyWithValue(p.Labels, k, want); k2 != "" {
			out = append(out, nearPod{pod: p, diff: fmt.Sprintf("it has %s=%s, the Service wants %s=%s", k2, want, k, want), fix: map[string]any{k: nil, k2: want}})
			continue
		}
		if len(keys) > 1 {
			out = append(out, nearPod{pod: p, diff: fmt.Sprintf("it has no label %s (the Service wants %s=%s)", k, k, want)})
		}
	}
	slices.SortFunc(out, func(a, b nearPod) int { return strings.Compare(a.pod.Name, b.pod.Name) })
	return out
}

// keyWithValue finds a label of the pod, other than key, with value want
// and a key like key ("App" for "app", "app.kubernetes.io/name" for "app").
func keyWithValue(podLabels map[string]string, key, want string) string {
	var found []string
	for k, v := range podLabels {
		if v == want && k != key {
			found = append(found, k)
		}
	}
	slices.Sort(found)
	for _, k := range found {
		if similar(strings.ToLower(k), strings.ToLower(key)) || strings.Contains(k, key) || strings.Contains(key, k) {
			return k
		}
	}
	return ""
}

// selectorPatch is the merge patch that makes the Service select the near
// pods, when they all need the same change.
func selectorPatch(near []nearPod) (string, bool) {
	first := near[0].fix
	if first == nil {
		return "", false
	}
	for _, n := range near[1:] {
		if fmt.Sprint(n.fix) != fmt.Sprint(first) {
			return "", false
		}
	}
	b, err := json.Marshal(map[string]any{"spec": map[string]any{"selector": first}})
	if err != nil {
		return "", false
	}
	return string(b), true
}

// similar reports whether two label values are probably the same word:
// equal ignoring case, one a dash-separated prefix of the other, or a small
// edit distance apart.
func similar(a, b string) bool {
	la, lb := strings.ToLower(a), strings.ToLower(b)
	if la == lb || strings.HasPrefix(la, lb+"-") || strings.HasPrefix(lb, la+"-") {
		return true
	}
	limit := max(1, min(len(a), len(b))/4)
	return editDistance(la, lb) <= limit
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkTargetPorts checks that each port's targetPort exists on the pods.
// A named targetPort that no container declares gives no endpoint at all; a
// number that no container declares is reported only when the containers
// declare ports (declaring them is optional, so silence proves nothing).
func checkTargetPorts(svc *corev1.Service, ref ObjectRef, owners []ObjectRef, specs []*corev1.PodSpec) []Finding {
	var out []Finding
	declared := containerPorts(specs)
	for i, sp := range svc.Spec.Ports {
		tp := sp.TargetPort
		if tp.Type == intstr.Int && tp.IntVal == 0 {
			tp = intstr.FromInt32(sp.Port)
		}
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if slices.ContainsFunc(declared, func(p containerPort) bool { return p.matches(tp, proto) }) {
			continue
		}
		if tp.Type == intstr.Int && len(declared) == 0 {
			continue
		}
		f := Finding{Rule: RuleServiceTargetPort, Severity: Warning, Object: ref, Owners: owners, mergeKey: "port:" + tp.String()}
		portName := cmp.Or(sp.Name, fmt.Sprint(sp.Port))
		if tp.Type == intstr.String {
			f.Severity = Critical
			f.Summary = fmt.Sprintf("port %s: targetPort %q is not the name of any container port of its pods", portName, tp.StrVal)
			f.Cause = "A named targetPort must match the name of a container port; since none does, the Service has no endpoint for this port and connections to it fail."
		} else {
			f.Summary = fmt.Sprintf("port %s: targetPort %d is not a port any container of its pods declares", portName, tp.IntVal)
			f.Cause = "Traffic is sent to a port the containers do not declare; unless the application listens there anyway, connections are refused."
		}
		f.Evidence.Status = []string{fmt.Sprintf("spec.ports[%d]: port %d → targetPort %s/%s", i, sp.Port, tp.String(), proto), "container ports of the selected pods: " + describePorts(declared)}
		if target, ok := onlyPort(declared, proto); ok {
			value, _ := json.Marshal(target)
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("Point the Service at the container port %v", target),
				Command: shellf("kubectl patch service %s -n %s --type json -p %s", svc.Name, svc.Namespace,
					fmt.Sprintf(`[{"op":"replace","path":"/spec/ports/%d/targetPort","value":%s}]`, i, value))})
		}
		f.Fixes = append(f.Fixes, Fix{Description: "or declare the port in the pod template's containers[].ports with that name/number"})
		out = append(out, f)
	}
	return out
}

type containerPort struct {
	name  string
	port  int32
	proto corev1.Protocol
}

func (p containerPort) matches(tp intstr.IntOrString, proto corev1.Protocol) bool {
	if p.proto != proto {
		return false
	}
	if tp.Type == intstr.String {
		return p.name == tp.StrVal
	}
	return p.port == tp.IntVal
}

func containerPorts(specs []*corev1.PodSpec) []containerPort {
	var out []containerPort
	for _, spec := range specs {
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			for _, cp := range c.Ports {
				proto := cp.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				x := containerPort{name: cp.Name, port: cp.ContainerPort, proto: proto}
				if !slices.Contains(out, x) {
					out = append(out, x)
				}
			}
		}
	}
	return out
}

func describePorts(ps []containerPort) string {
	if len(ps) == 0 {
		return "none declared"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%d/%s", p.port, p.proto)
		if p.name != "" {
			parts[i] = p.name + ":" + parts[i]
		}
	}
	return strings.Join(parts, ", ")
}

// onlyPort returns the one declared port of proto, by name when it has one.
func onlyPort(ps []containerPort, proto corev1.Protocol) (any, bool) {
	var of []containerPort
	for _, p := range ps {
		if p.proto == proto {
			of = append(of, p)
		}
	}
	if len(of) != 1 {
		return nil, false
	}
	if of[0].name != "" {
		return of[0].name, true
	}
	return of[0].port, true
}

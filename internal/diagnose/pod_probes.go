package diagnose

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/opsagent/opsagent/internal/kubefmt"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Readiness rules: pods running but not ready, failing probes.

// notReady checks a running pod that is not Ready.
func (c *podCheck) notReady() []Finding {
	if c.p.Status.Phase != corev1.PodRunning {
		return nil
	}
	ready := podCondition(c.p, corev1.PodReady)
	if ready == nil || ready.Status == corev1.ConditionTrue {
		return c.livenessFailing()
	}
	var unready []containerStatus
	for _, cs := range c.statuses() {
		if !cs.init && !cs.status.Ready {
			unready = append(unready, cs)
		}
	}
	probes := c.recentEvents("Unhealthy")
	if len(probes) > 0 {
		f := c.finding(RulePodProbeFailing, Warning, "probe")
		f.Summary = "is not Ready: " + probes[0].Message
		f.Evidence.Events = probes
		for _, cs := range unready {
			f.Evidence.Status = append(f.Evidence.Status, cs.what()+": not ready")
			if cs.spec != nil {
				for _, pr := range []struct {
					name string
					p    *corev1.Probe
				}{{"readiness", cs.spec.ReadinessProbe}, {"liveness", cs.spec.LivenessProbe}, {"startup", cs.spec.StartupProbe}} {
					if pr.p != nil {
						f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("%s: %s probe %s", cs.what(), pr.name, kubefmt.Probe(pr.p)))
					}
				}
			}
		}
		f.Cause = "A probe of the pod fails, so the pod is taken out of its Services' endpoints (readiness) or restarted (liveness). Either the application is unhealthy or the probe checks the wrong path, port or timing."
		f.Fixes = c.probeFixes(unready)
		return []Finding{f}
	}
	since := ready.LastTransitionTime.Time
	if c.s.Now.Sub(since) < startupGrace {
		return nil
	}
	f := c.finding(RulePodNotReady, Warning, "notready")
	f.Summary = fmt.Sprintf("has not been Ready for %s", duration.HumanDuration(c.s.Now.Sub(since)))
	f.Evidence.Status = []string{fmt.Sprintf("condition Ready=False %s: %s", ready.Reason, trimLine(ready.Message))}
	for _, cs := range unready {
		f.Evidence.Status = append(f.Evidence.Status, cs.what()+": not ready")
	}
	for _, g := range c.p.Spec.ReadinessGates {
		if cond := podCondition(c.p, g.ConditionType); cond == nil || cond.Status != corev1.ConditionTrue {
			f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("readiness gate %s is not True", g.ConditionType))
		}
	}
	f.Evidence.Events = c.s.eventsOf(c.ref, maxEvents)
	f.Cause = "The pod runs but does not become Ready, so its Services send it no traffic."
	f.Fixes = c.probeFixes(unready)
	return []Finding{f}
}

// livenessFailing reports a Ready pod whose liveness or startup probe has
// failed recently: it is about to be restarted.
func (c *podCheck) livenessFailing() []Finding {
	var evs []Event
	for _, e := range c.recentEvents("Unhealthy") {
		if strings.HasPrefix(e.Message, "Liveness") || strings.HasPrefix(e.Message, "Startup") {
			evs = append(evs, e)
		}
	}
	if len(evs) == 0 {
		return nil
	}
	f := c.finding(RulePodProbeFailing, Warning, "probe")
	f.Summary = "probe failing: " + evs[0].Message
	f.Evidence.Events = evs
	f.Cause = "The liveness or startup probe fails; the kubelet restarts the container when it fails often enough in a row."
	f.Fixes = c.probeFixes(nil)
	return []Finding{f}
}

func (c *podCheck) recentEvents(reasons ...string) []Event {
	return slices.DeleteFunc(c.s.eventsOf(c.ref, maxEvents, reasons...), func(e Event) bool {
		return !e.LastSeen.IsZero() && c.s.Now.Sub(e.LastSeen) > recentEvent
	})
}

func (c *podCheck) probeFixes(unready []containerStatus) []Fix {
	var out []Fix
	for _, cs := range unready {
		if cs.spec == nil || cs.spec.ReadinessProbe == nil {
			continue
		}
		if g := cs.spec.ReadinessProbe.HTTPGet; g != nil {
			out = append(out, Fix{Description: fmt.Sprintf("Call the readiness endpoint from inside the pod to see what it answers (%s)", cs.what()),
				Command: shellf("kubectl exec %s -n %s -c %s -- wget -qO- http://localhost:%s%s", c.p.Name, c.ns(), cs.status.Name, g.Port.String(), cmp.Or(g.Path, "/"))})
		}
	}
	out = append(out,
		Fix{Description: "See the probe failures and the application's log", Command: shellf("kubectl describe pod %s -n %s && kubectl logs %s -n %s", c.p.Name, c.ns(), c.p.Name, c.ns())},
		Fix{Description: "If the application only needs longer to start, raise the probe's initialDelaySeconds or failureThreshold, or add a startupProbe"})
	return out
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

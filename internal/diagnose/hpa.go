package diagnose

import (
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// HorizontalPodAutoscaler rules.
const (
	RuleHPATargetMissing       = "HPATargetMissing"
	RuleHPAMetricsUnavailable  = "HPAMetricsUnavailable"
	RuleHPAUnableToScale       = "HPAUnableToScale"
	RuleHPAPodsWithoutRequests = "HPAPodsWithoutRequests"
)

type hpaAnalyzer struct{}

var _ Analyzer = hpaAnalyzer{}

func (hpaAnalyzer) Kind() string      { return "HorizontalPodAutoscaler" }
func (hpaAnalyzer) Needs() []Resource { return needs(ResHPAs, ResEvents) }

func (hpaAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.HPAs {
		h := &s.HPAs[i]
		if !s.inScope(&h.ObjectMeta) {
			continue
		}
		r.Checked++
		r.Findings = append(r.Findings, checkHPA(s, h)...)
	}
	return r
}

func checkHPA(s *Snapshot, h *autoscalingv2.HorizontalPodAutoscaler) []Finding {
	ref := refOf("HorizontalPodAutoscaler", &h.ObjectMeta)
	owners := s.owners(&h.ObjectMeta)
	t := h.Spec.ScaleTargetRef
	target := fmt.Sprintf("%s/%s", strings.ToLower(t.Kind), t.Name)
	newFinding := func(rule string, sev Severity) Finding {
		return Finding{Rule: rule, Severity: sev, Object: ref, Owners: owners, Evidence: Evidence{Status: []string{"scaleTargetRef: " + target}}}
	}
	spec, known, found := hpaTarget(s, h)
	if known && !found {
		f := newFinding(RuleHPATargetMissing, Critical)
		f.Summary = fmt.Sprintf("its scale target %s does not exist", target)
		f.Evidence.Events = s.eventsOf(ref, maxEvents)
		f.Cause = "The autoscaler points at a workload that does not exist (a typo, or the workload was renamed or deleted), so nothing is scaled."
		f.Fixes = []Fix{{Description: "Point scaleTargetRef at the workload, or delete the autoscaler",
			Command: shellf(`kubectl patch hpa %s -n %s --type merge -p '{"spec":{"scaleTargetRef":{"name":"<workload>"}}}'`, h.Name, h.Namespace)}}
		return []Finding{f}
	}
	var out []Finding
	for _, c := range h.Status.Conditions {
		if c.Status != corev1.ConditionFalse {
			continue
		}
		status := fmt.Sprintf("condition %s=False %s: %s", c.Type, c.Reason, trimLine(c.Message))
		switch {
		case c.Type == autoscalingv2.ScalingActive && c.Reason != "ScalingDisabled":
			f := newFinding(RuleHPAMetricsUnavailable, Warning)
			f.Summary = "cannot read its metrics: " + trimLine(c.Message)
			f.Evidence.Status = append(f.Evidence.Status, status)
			f.Evidence.Events = s.eventsOf(ref, maxEvents, "FailedGetResourceMetric", "FailedComputeMetricsReplicas", "FailedGetPodsMetric", "FailedGetExternalMetric", "FailedGetObjectMetric")
			f.Cause = "The autoscaler cannot compute a replica count because the metrics it needs are not available: usually metrics-server (or the custom metrics adapter) is not installed or not ready, or the pods have no requests for a utilization target. It does not scale meanwhile."
			f.Fixes = []Fix{
				{Description: "Check that the metrics API answers", Command: "kubectl get apiservice v1beta1.metrics.k8s.io; kubectl top pods -n " + h.Namespace},
				{Description: "Install metrics-server if it is missing", Command: "kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml"},
			}
			out = append(out, f)
		case c.Type == autoscalingv2.AbleToScale:
			f := newFinding(RuleHPAUnableToScale, Warning)
			f.Summary = "cannot scale its target: " + trimLine(c.Message)
			f.Evidence.Status = append(f.Evidence.Status, status)
			f.Evidence.Events = s.eventsOf(ref, maxEvents, "FailedGetScale", "FailedRescale")
			f.Cause = "The autoscaler cannot read or update the scale of its target."
			f.Fixes = []Fix{{Description: "See the autoscaler's events", Command: shellf("kubectl describe hpa %s -n %s", h.Name, h.Namespace)}}
			out = append(out, f)
		}
	}
	if spec != nil {
		for _, m := range h.Spec.Metrics {
			res, util := utilizationResource(m)
			if !util {
				continue
			}
			var missing []string
			for _, c := range spec.Containers {
				if _, ok := c.Resources.Requests[res]; !ok {
					missing = append(missing, c.Name)
				}
			}
			if len(missing) == 0 {
				continue
			}
			f := newFinding(RuleHPAPodsWithoutRequests, Warning)
			f.mergeKey = string(res)
			f.Summary = fmt.Sprintf("scales on %s utilization but container %s of %s has no %s request", res, strings.Join(missing, ", "), target, res)
			f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("metric: %s utilization", res), fmt.Sprintf("containers without a %s request: %s", res, strings.Join(missing, ", ")))
			f.Cause = fmt.Sprintf("Utilization is usage divided by the request; without a %s request it cannot be computed, so the autoscaler does not scale.", res)
			f.Fixes = []Fix{{Description: fmt.Sprintf("Give the containers a %s request", res),
				Command: shellf("kubectl set resources %s -n %s -c %s --requests=%s=%s", target, h.Namespace, missing[0], res, map[corev1.ResourceName]string{corev1.ResourceCPU: "100m", corev1.ResourceMemory: "128Mi"}[res])}}
			out = append(out, f)
		}
	}
	return out
}

// hpaTarget finds the pod template of an autoscaler's target. known is false
// when the target's kind was not listed (then nothing can be said).
func hpaTarget(s *Snapshot, h *autoscalingv2.HorizontalPodAutoscaler) (spec *corev1.PodSpec, known, found bool) {
	t, ns := h.Spec.ScaleTargetRef, h.Namespace
	switch t.Kind {
	case "Deployment":
		for i := range s.Deployments {
			if d := &s.Deployments[i]; d.Namespace == ns && d.Name == t.Name {
				return &d.Spec.Template.Spec, true, true
			}
		}
		return nil, s.Listed(ResDeployments), false
	case "StatefulSet":
		for i := range s.StatefulSets {
			if d := &s.StatefulSets[i]; d.Namespace == ns && d.Name == t.Name {
				return &d.Spec.Template.Spec, true, true
			}
		}
		return nil, s.Listed(ResStatefulSets), false
	case "ReplicaSet":
		for i := range s.ReplicaSets {
			if d := &s.ReplicaSets[i]; d.Namespace == ns && d.Name == t.Name {
				return &d.Spec.Template.Spec, true, true
			}
		}
		return nil, s.Listed(ResReplicaSets), false
	}
	return nil, false, false // a custom resource: not checked
}

func utilizationResource(m autoscalingv2.MetricSpec) (corev1.ResourceName, bool) {
	switch {
	case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
		return m.Resource.Name, m.Resource.Target.Type == autoscalingv2.UtilizationMetricType
	case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
		return m.ContainerResource.Name, m.ContainerResource.Target.Type == autoscalingv2.UtilizationMetricType
	}
	return "", false
}

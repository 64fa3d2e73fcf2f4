package usage

import (
	"regexp"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// How Recommend pools Prometheus's per-pod series into one series per
// workload container, without I/O.
//
// Percentiles of pods cannot be merged exactly; the pooled figure is the
// largest of the pods' figures. That is never below the percentile of all
// samples pooled (if no pod has more than 5% of its samples above its own
// p95, no more than 5% of all samples lie above the largest p95), so a
// request sized from it is not too small, at the cost of following the
// busiest replica.

// series is a pod container's series, if Prometheus has one. A nil
// PromUsage has none.
func (u *PromUsage) series(namespace, pod, container string) (PromSeries, bool) {
	if u == nil {
		return PromSeries{}, false
	}
	s, ok := u.Containers[PodContainer{Namespace: namespace, Pod: pod, Container: container}]
	return s, ok
}

// addProm pools one pod's series into the group's.
func (g *group) addProm(s PromSeries) {
	if g.prom == nil {
		g.prom = &s
		return
	}
	p := g.prom
	p.Samples += s.Samples
	if s.From.Before(p.From) {
		p.From = s.From
	}
	if s.To.After(p.To) {
		p.To = s.To
	}
	p.CPU, p.Memory = maxStats(p.CPU, s.CPU), maxStats(p.Memory, s.Memory)
}

func maxStats(a, b Stats) Stats {
	return Stats{P50: max(a.P50, b.P50), P90: max(a.P90, b.P90), P95: max(a.P95, b.P95), P99: max(a.P99, b.P99), Max: max(a.Max, b.Max)}
}

// Pods gone since (replaced by a rollout, rescheduled) are still in
// Prometheus's window, and their usage is the workload's too. Nothing in the
// cAdvisor series names the owner, so they are matched by the names the
// controllers give their pods, and only to a workload that has pods in the
// snapshot, in the same namespace, with a container of the same name:
//
//	Deployment   <deployment>-<pod-template-hash>-<5 characters>
//	StatefulSet  <statefulset>-<ordinal>
//	DaemonSet    <daemonset>-<5 characters>
//	Job          <job>-<5 characters>
//
// The characters are those of Kubernetes' generated names (no vowels, no
// 0, 1 or 3). A gone bare pod named like a current workload's pods would be
// pooled with them; every current pod is matched by its own name first.
var (
	deploymentPodName = regexp.MustCompile(`^(.+)-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	ordinalPodName    = regexp.MustCompile(`^(.+)-(?:0|[1-9][0-9]*)$`)
	generatedPodName  = regexp.MustCompile(`^(.+)-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
)

// formerOwners are the workloads a pod's name could come from, most
// specific first.
func formerOwners(pod string) []Workload {
	var out []Workload
	if m := deploymentPodName.FindStringSubmatch(pod); m != nil {
		out = append(out, Workload{Kind: "Deployment", Name: m[1]})
	}
	if m := ordinalPodName.FindStringSubmatch(pod); m != nil {
		out = append(out, Workload{Kind: "StatefulSet", Name: m[1]})
	}
	if m := generatedPodName.FindStringSubmatch(pod); m != nil {
		out = append(out, Workload{Kind: "DaemonSet", Name: m[1]}, Workload{Kind: "Job", Name: m[1]})
	}
	return out
}

// addFormerPods pools the series of pods that are not in the snapshot into
// the group of the workload their name says they came from.
func addFormerPods(groups map[SeriesKey]*group, u *PromUsage, s *Snapshot) {
	current := make(map[types.NamespacedName]bool, len(s.Pods))
	for i := range s.Pods {
		current[types.NamespacedName{Namespace: s.Pods[i].Namespace, Name: s.Pods[i].Name}] = true
	}
	for pc, series := range u.Containers {
		if current[types.NamespacedName{Namespace: pc.Namespace, Name: pc.Pod}] {
			continue
		}
		for _, w := range formerOwners(pc.Pod) {
			if g := groups[SeriesKey{Namespace: pc.Namespace, Kind: w.Kind, Name: w.Name, Container: pc.Container}]; g != nil {
				g.addProm(series)
				break
			}
		}
	}
}

// promConfidence grades Prometheus evidence by its coverage: high with
// 100+ samples over at least a day and at least half the window asked for.
func promConfidence(p *PromSeries, window time.Duration) Confidence {
	if span := p.To.Sub(p.From); p.Samples >= highSamples && span >= highSpan && span >= window/2 {
		return ConfidenceHigh
	}
	return ConfidenceMedium
}

package usage

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The rules, in the words of docs/usage.md. Every number a recommendation
// uses is here.
const (
	// cpuHeadroom and memoryHeadroom are added on top of the usage figure
	// a request is sized from (CPU's high percentile, memory's peak).
	cpuHeadroom    = 1.15
	memoryHeadroom = 1.15
	// lowerTolerance: a request is only lowered when the recommendation is
	// at least 20% below it, so small drifts do not churn rollouts.
	lowerTolerance = 0.8
	// cpuLimitFactor and memoryLimitFactor: a limit below this multiple of
	// the recommended request is raised to it (or set, when missing).
	cpuLimitFactor    = 2.0
	memoryLimitFactor = 1.5
	// oomFactor: after an OOM kill the container needed more than its
	// memory limit; the request is raised to at least 1.2 × that limit.
	oomFactor = 1.2
	// Floors and steps of recommended values.
	minCPUMilli   = 10
	cpuStepMilli  = 5
	minMemory     = 16 << 20
	memoryStep    = 4 << 20
	highSamples   = 100
	highSpan      = 24 * time.Hour
	DefaultWindow = 7 * 24 * time.Hour
)

// Source says where the usage behind a recommendation came from.
type Source string

const (
	SourcePrometheus    Source = "prometheus"
	SourceHistory       Source = "history"
	SourceMetricsServer Source = "metrics-server"
	SourceNone          Source = "none"
)

// Confidence grades how much usage a recommendation rests on.
type Confidence string

const (
	ConfidenceHigh   Confidence = "high"   // 100+ samples over at least a day (and half the window, from Prometheus)
	ConfidenceMedium Confidence = "medium" // some history, or some Prometheus series
	ConfidenceLow    Confidence = "low"    // one metrics-server snapshot
	ConfidenceNone   Confidence = "none"   // no usage at all: findings only
)

// Verdict sums up a container's sizing.
type Verdict string

const (
	VerdictOversized  Verdict = "oversized"   // a request can go down
	VerdictUndersized Verdict = "undersized"  // a request or limit must go up (or is missing)
	VerdictRightSized Verdict = "right-sized" // nothing to change
	VerdictNoUsage    Verdict = "no-usage"    // no usage to judge by
)

// FindingCode names a problem found in a container's sizing.
type FindingCode string

const (
	FindingMissingRequest       FindingCode = "missing-request"
	FindingMissingLimit         FindingCode = "missing-limit"
	FindingLimitBelowRequest    FindingCode = "limit-below-request"
	FindingLimitBelowPeak       FindingCode = "limit-below-peak"
	FindingOOMKilled            FindingCode = "oom-killed"
	FindingHPAWithoutCPURequest FindingCode = "hpa-without-cpu-request"
)

// Finding is one problem, in words.
type Finding struct {
	Code     FindingCode `json:"code"`
	Resource string      `json:"resource,omitempty"` // cpu or memory
	Message  string      `json:"message"`
}

// Resources are a container's requests and limits: CPU in millicores,
// memory in bytes, 0 when not set.
type Resources struct {
	CPURequest    int64 `json:"cpuRequest"`
	CPULimit      int64 `json:"cpuLimit"`
	MemoryRequest int64 `json:"memoryRequest"`
	MemoryLimit   int64 `json:"memoryLimit"`
}

// Change is the recommendation as set_resources arguments (quantities as
// Kubernetes writes them); only the fields that change are set.
type Change struct {
	RequestsCPU    string `json:"requests_cpu,omitempty"`
	RequestsMemory string `json:"requests_memory,omitempty"`
	LimitsCPU      string `json:"limits_cpu,omitempty"`
	LimitsMemory   string `json:"limits_memory,omitempty"`
}

// IsZero reports a change that changes nothing.
func (c Change) IsZero() bool { return c == Change{} }

// Evidence is what a recommendation rests on.
type Evidence struct {
	Source Source `json:"source"`
	// Window is the window asked for (of Prometheus or the history); From
	// and To the samples' actual span.
	Window  string     `json:"window,omitempty"`
	From    *time.Time `json:"from,omitempty"`
	To      *time.Time `json:"to,omitempty"`
	Samples int        `json:"samples"`
	CPU     *Stats     `json:"cpu,omitempty"`
	Memory  *Stats     `json:"memory,omitempty"`
	// OOMKilled counts the workload's pods whose container was last
	// terminated for running out of memory; Restarts sums their restarts.
	OOMKilled int   `json:"oomKilled"`
	Restarts  int32 `json:"restarts"`
}

// Recommendation is one container of one workload.
type Recommendation struct {
	Namespace string   `json:"namespace"`
	Workload  Workload `json:"workload"`
	Container string   `json:"container"`
	// Replicas is the number of the workload's pods seen (not finished).
	Replicas    int        `json:"replicas"`
	Current     Resources  `json:"current"`
	Recommended Resources  `json:"recommended"`
	Verdict     Verdict    `json:"verdict"`
	Confidence  Confidence `json:"confidence"`
	// Changes says what would change, one line per field
	// ("requests.cpu 100m → 25m").
	Changes []string `json:"changes,omitempty"`
	// Apply is the change as set_resources arguments; absent when nothing
	// changes or the workload cannot be changed that way (a bare pod, a Job).
	Apply    *Change   `json:"apply,omitempty"`
	Evidence Evidence  `json:"evidence"`
	Findings []Finding `json:"findings,omitempty"`
	// Reasons are the rules that produced each recommended value.
	Reasons []string `json:"reasons,omitempty"`
}

// Totals add up the recommendations over their replicas: the capacity that
// lower requests would free, and the capacity that raised or missing
// requests need.
type Totals struct {
	CPUFreedCores    float64 `json:"cpuFreedCores"`
	MemoryFreedGiB   float64 `json:"memoryFreedGiB"`
	CPUMissingCores  float64 `json:"cpuMissingCores"`
	MemoryMissingGiB float64 `json:"memoryMissingGiB"`
}

// Report is the answer of `recommend`.
type Report struct {
	Time   string `json:"time"`
	Window string `json:"window"`
	// Prometheus is the server usage was read from, when one was asked
	// for (without credentials).
	Prometheus string `json:"prometheus,omitempty"`
	// Notes say plainly what the figures rest on (one snapshot, no
	// metrics API, ...).
	Notes           []string         `json:"notes,omitempty"`
	Recommendations []Recommendation `json:"recommendations"`
	Totals          Totals           `json:"totals"`
}

// Options shape a recommendation run.
type Options struct {
	// Window is how far back history is read (default 7 days).
	Window time.Duration
	// Prometheus, when not nil, is what a Prometheus server reported over
	// the window (PromClient.Fetch): the first source of every container it
	// has series for.
	Prometheus *PromUsage
	// History, when not nil, is the local usage history.
	History *History
	// Only, when set, sizes only that workload (kind and name).
	Only *Workload
}

// group is one container of one workload, gathered from its pods.
type group struct {
	key      SeriesKey
	workload Workload
	spec     *corev1.Container
	newest   time.Time
	replicas int
	cpu, mem []int64     // metrics-server samples, one per pod
	prom     *PromSeries // Prometheus's series of its pods, pooled
	oom      int
	restarts int32
}

// Recommend sizes every container of every workload in the snapshot.
func Recommend(s *Snapshot, o Options) *Report {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	r := &Report{Time: s.Time.UTC().Format(time.RFC3339), Window: FormatWindow(o.Window)}
	groups := map[SeriesKey]*group{}
	var order []SeriesKey
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		w := s.WorkloadOf(p)
		if o.Only != nil && (w.Kind != o.Only.Kind || w.Name != o.Only.Name) {
			continue
		}
		for ci := range p.Spec.Containers {
			c := &p.Spec.Containers[ci]
			key := SeriesKey{Namespace: p.Namespace, Kind: w.Kind, Name: w.Name, Container: c.Name}
			g := groups[key]
			if g == nil {
				g = &group{key: key, workload: w}
				groups[key] = g
				order = append(order, key)
			}
			g.replicas++
			// During a rollout pods differ: the newest carries the
			// template a change would edit.
			if created := p.CreationTimestamp.Time; g.spec == nil || created.After(g.newest) {
				g.spec, g.newest = c, created
			}
			if ps, ok := o.Prometheus.series(p.Namespace, p.Name, c.Name); ok {
				g.addProm(ps)
			}
			if cpu, mem, ok := s.containerUsage(p, c.Name); ok {
				g.cpu, g.mem = append(g.cpu, cpu), append(g.mem, mem)
			}
			for _, cs := range p.Status.ContainerStatuses {
				if cs.Name != c.Name {
					continue
				}
				g.restarts += cs.RestartCount
				if oomKilled(cs) {
					g.oom++
				}
			}
		}
	}
	if o.Prometheus != nil {
		r.Prometheus = o.Prometheus.URL
		addFormerPods(groups, o.Prometheus, s)
	}
	hpas := cpuHPAs(s.HPAs)
	from := s.Time.Add(-o.Window)
	usedProm, usedHistory, usedSnapshot := 0, 0, 0
	// Sorted before the recommendations exist: they are large values, and
	// moving thousands of them in a sort costs more than computing them.
	slices.SortFunc(order, func(a, b SeriesKey) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.Container, b.Container))
	})
	r.Recommendations = make([]Recommendation, 0, len(order))
	for _, key := range order {
		g := groups[key]
		rec := recommendOne(g, o, from, s.Time, hpas)
		switch rec.Evidence.Source {
		case SourcePrometheus:
			usedProm++
		case SourceHistory:
			usedHistory++
		case SourceMetricsServer:
			usedSnapshot++
		}
		r.Recommendations = append(r.Recommendations, rec)
		r.Totals.add(rec)
	}
	if p := o.Prometheus; p != nil {
		if missing := len(order) - usedProm; missing > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d container(s) have no series in the Prometheus at %s over %s (new pods, or a server that does not scrape the kubelet's cAdvisor or resource metrics): they are sized from the next source", missing, p.URL, FormatWindow(p.Window)))
		}
		for _, w := range p.Warnings {
			r.Notes = append(r.Notes, "Prometheus warns: "+w)
		}
	}
	if s.MetricsErr != nil && usedHistory == 0 && usedProm == 0 {
		r.Notes = append(r.Notes, "no usage: "+s.MetricsErr.Error()+"; only the findings about requests and limits are reported")
	}
	if usedSnapshot > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d container(s) are judged from one metrics-server snapshot: a single moment, not a peak, so confidence is low; `opsagent watch` records a history that makes it high", usedSnapshot))
	}
	return r
}

func oomKilled(cs corev1.ContainerStatus) bool {
	if t := cs.LastTerminationState.Terminated; t != nil && t.Reason == "OOMKilled" {
		return true
	}
	t := cs.State.Terminated
	return t != nil && t.Reason == "OOMKilled"
}

// hpaKey is an HPA's target.
type hpaKey struct{ namespace, kind, name string }

// cpuHPAs indexes the HPAs that scale on CPU utilisation, which needs a CPU
// request on every container.
func cpuHPAs(list []autoscalingv2.HorizontalPodAutoscaler) map[hpaKey]string {
	out := map[hpaKey]string{}
	for i := range list {
		h := &list[i]
		for _, m := range h.Spec.Metrics {
			var name corev1.ResourceName
			var target autoscalingv2.MetricTarget
			switch {
			case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
				name, target = m.Resource.Name, m.Resource.Target
			case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
				name, target = m.ContainerResource.Name, m.ContainerResource.Target
			default:
				continue
			}
			if name == corev1.ResourceCPU && target.Type == autoscalingv2.UtilizationMetricType {
				out[hpaKey{h.Namespace, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name}] = h.Name
			}
		}
	}
	return out
}

// appliable are the kinds set_resources changes.
var appliable = []string{"Deployment", "StatefulSet", "DaemonSet"}

func recommendOne(g *group, o Options, from, now time.Time, hpas map[hpaKey]string) Recommendation {
	res := g.spec.Resources
	cur := Resources{
		CPURequest: res.Requests.Cpu().MilliValue(), CPULimit: res.Limits.Cpu().MilliValue(),
		MemoryRequest: res.Requests.Memory().Value(), MemoryLimit: res.Limits.Memory().Value(),
	}
	rec := Recommendation{Namespace: g.key.Namespace, Workload: g.workload, Container: g.key.Container,
		Replicas: g.replicas, Current: cur, Recommended: cur}
	rec.Evidence = Evidence{Source: SourceNone, OOMKilled: g.oom, Restarts: g.restarts}
	rec.Findings = specFindings(cur, g, hpas)

	// Usage: Prometheus when it has series of the container, else the
	// history when it has samples in the window, else the snapshot. The
	// snapshot's values count as observed peaks either way.
	var cpu, mem Stats
	snapCPU, snapMem := slices.Max(append([]int64{0}, g.cpu...)), slices.Max(append([]int64{0}, g.mem...))
	if p := g.prom; p != nil {
		cpu, mem = p.CPU, p.Memory
		cpu.Max, mem.Max = max(cpu.Max, snapCPU), max(mem.Max, snapMem)
		first, last := p.From, p.To
		rec.Evidence.Source, rec.Evidence.Samples = SourcePrometheus, p.Samples
		rec.Evidence.Window = FormatWindow(o.Prometheus.Window)
		rec.Evidence.From, rec.Evidence.To = &first, &last
		rec.Confidence = promConfidence(p, o.Prometheus.Window)
	}
	if o.History != nil && rec.Evidence.Source == SourceNone {
		if n, first, last, c, m, ok := o.History.WindowStats(g.key, from, now); ok {
			cpu, mem = c, m
			cpu.Max, mem.Max = max(cpu.Max, snapCPU), max(mem.Max, snapMem)
			rec.Evidence.Source, rec.Evidence.Samples = SourceHistory, n
			rec.Evidence.Window = FormatWindow(o.Window)
			rec.Evidence.From, rec.Evidence.To = &first, &last
			rec.Confidence = ConfidenceMedium
			if n >= highSamples && last.Sub(first) >= highSpan {
				rec.Confidence = ConfidenceHigh
			}
		}
	}
	if rec.Evidence.Source == SourceNone && len(g.cpu) > 0 {
		cpu, mem = statsOf(g.cpu), statsOf(g.mem)
		rec.Evidence.Source, rec.Evidence.Samples = SourceMetricsServer, len(g.cpu)
		t := now
		rec.Evidence.From, rec.Evidence.To = &t, &t
		rec.Confidence = ConfidenceLow
	}
	if rec.Evidence.Source == SourceNone {
		rec.Confidence, rec.Verdict = ConfidenceNone, VerdictNoUsage
		if g.oom > 0 {
			// No usage, but an OOM kill alone says memory must go up.
			rec.Reasons = append(rec.Reasons, "no usage to size from; the OOM kill alone raises memory")
		} else {
			return rec
		}
	} else {
		rec.Evidence.CPU, rec.Evidence.Memory = &cpu, &mem
	}

	// CPU request: the 95th percentile plus headroom, never below the peak.
	cpuNeed := roundUp(max(int64(math.Ceil(float64(cpu.P95)*cpuHeadroom)), cpu.Max, minCPUMilli), cpuStepMilli)
	// Memory request: the peak plus headroom; after an OOM kill, at least
	// 1.2 × the limit it was killed at (usage was cut off there).
	memNeed := roundUp(max(int64(math.Ceil(float64(mem.Max)*memoryHeadroom)), minMemory), memoryStep)
	memWhy := fmt.Sprintf("memory request %%s: peak %s × %.2f", FormatMemory(mem.Max), memoryHeadroom)
	if g.oom > 0 {
		killedAt := cmp.Or(cur.MemoryLimit, cur.MemoryRequest)
		if oomNeed := roundUp(int64(math.Ceil(float64(killedAt)*oomFactor)), memoryStep); oomNeed > memNeed {
			memNeed = oomNeed
			memWhy = fmt.Sprintf("memory request %%s: %d pod(s) OOMKilled at %s, so at least %.1f × that", g.oom, FormatMemory(killedAt), oomFactor)
		}
	}
	r := &rec.Recommended
	var lowered, raised bool
	decide := func(what string, curV, need int64, why string, format func(int64) string) int64 {
		switch {
		case curV == 0:
			raised = true
			rec.Reasons = append(rec.Reasons, fmt.Sprintf(why, format(need))+" (none set now)")
			return need
		case need > curV:
			raised = true
			rec.Reasons = append(rec.Reasons, fmt.Sprintf(why, format(need))+", above the current "+format(curV))
			return need
		case float64(need) <= float64(curV)*lowerTolerance:
			lowered = true
			rec.Reasons = append(rec.Reasons, fmt.Sprintf(why, format(need))+", at least 20% below the current "+format(curV))
			return need
		}
		rec.Reasons = append(rec.Reasons, fmt.Sprintf("kept %s %s: within 20%% of what usage calls for (%s)", what, format(curV), format(need)))
		return curV
	}
	if cpuNeed > 0 && rec.Evidence.Source != SourceNone {
		r.CPURequest = decide("the CPU request", cur.CPURequest, cpuNeed,
			fmt.Sprintf("CPU request %%s: p95 %s × %.2f, not below the peak %s", FormatCPU(cpu.P95), cpuHeadroom, FormatCPU(cpu.Max)), FormatCPU)
	}
	r.MemoryRequest = decide("the memory request", cur.MemoryRequest, memNeed, memWhy, FormatMemory)

	// Limits reserve nothing, so they are only raised (or set when
	// missing), never lowered: a lower limit frees no capacity and only
	// adds throttling or OOM risk.
	limit := func(what string, curV, req int64, factor float64, step int64, format func(int64) string) int64 {
		need := roundUp(int64(math.Ceil(float64(req)*factor)), step)
		switch {
		case req == 0:
			return curV
		case curV == 0:
			// A missing limit is a finding of its own, not a sign the
			// container is too small.
			rec.Reasons = append(rec.Reasons, fmt.Sprintf("%s limit %s: %.1f × the recommended request (none set now)", what, format(need), factor))
			return need
		case curV < need:
			raised = true
			rec.Reasons = append(rec.Reasons, fmt.Sprintf("%s limit %s: %.1f × the recommended request, above the current %s", what, format(need), factor, format(curV)))
			return need
		}
		return curV
	}
	r.CPULimit = limit("CPU", cur.CPULimit, r.CPURequest, cpuLimitFactor, cpuStepMilli, FormatCPU)
	r.MemoryLimit = limit("memory", cur.MemoryLimit, r.MemoryRequest, memoryLimitFactor, memoryStep, FormatMemory)

	// Limits below the observed peak are findings of their own.
	if cur.CPULimit > 0 && cpu.Max >= cur.CPULimit {
		rec.Findings = append(rec.Findings, Finding{Code: FindingLimitBelowPeak, Resource: "cpu",
			Message: fmt.Sprintf("CPU usage reached the limit %s (peak %s): the container is throttled", FormatCPU(cur.CPULimit), FormatCPU(cpu.Max))})
	}
	if cur.MemoryLimit > 0 && mem.Max >= cur.MemoryLimit*9/10 {
		rec.Findings = append(rec.Findings, Finding{Code: FindingLimitBelowPeak, Resource: "memory",
			Message: fmt.Sprintf("memory peaked at %s, within 10%% of the limit %s: the next peak may be OOM-killed", FormatMemory(mem.Max), FormatMemory(cur.MemoryLimit))})
	}

	rec.Changes, rec.Apply = changes(cur, *r)
	switch {
	case raised:
		rec.Verdict = VerdictUndersized
	case lowered:
		rec.Verdict = VerdictOversized
	case rec.Evidence.Source == SourceNone:
		rec.Verdict = VerdictNoUsage
	default:
		rec.Verdict = VerdictRightSized
	}
	if rec.Apply != nil && !slices.Contains(appliable, g.workload.Kind) {
		rec.Apply = nil
	}
	return rec
}

// specFindings are the problems visible in the spec alone.
func specFindings(cur Resources, g *group, hpas map[hpaKey]string) []Finding {
	var out []Finding
	for _, f := range []struct {
		res      string
		req, lim int64
	}{{"cpu", cur.CPURequest, cur.CPULimit}, {"memory", cur.MemoryRequest, cur.MemoryLimit}} {
		if f.req == 0 {
			out = append(out, Finding{Code: FindingMissingRequest, Resource: f.res,
				Message: fmt.Sprintf("no %s request: the scheduler places the pod as if it needed none, and it is evicted first under pressure", f.res)})
		}
		if f.lim == 0 {
			out = append(out, Finding{Code: FindingMissingLimit, Resource: f.res,
				Message: fmt.Sprintf("no %s limit: one container can take the node's spare %s from its neighbours", f.res, f.res)})
		}
		if f.lim > 0 && f.req > f.lim {
			out = append(out, Finding{Code: FindingLimitBelowRequest, Resource: f.res,
				Message: fmt.Sprintf("the %s limit is below the request; Kubernetes refuses such a pod template", f.res)})
		}
	}
	if g.oom > 0 {
		out = append(out, Finding{Code: FindingOOMKilled, Resource: "memory",
			Message: fmt.Sprintf("%d pod(s) were last terminated OOMKilled: the container needs more memory than its limit %s", g.oom, FormatMemory(cmp.Or(cur.MemoryLimit, cur.MemoryRequest)))})
	}
	if hpa, ok := hpas[hpaKey{g.key.Namespace, g.workload.Kind, g.workload.Name}]; ok && cur.CPURequest == 0 {
		out = append(out, Finding{Code: FindingHPAWithoutCPURequest, Resource: "cpu",
			Message: fmt.Sprintf("HorizontalPodAutoscaler %s scales on CPU utilisation, which is a share of the request; without a CPU request it cannot compute it and does not scale", hpa)})
	}
	return out
}

// changes lists what differs between current and recommended.
func changes(cur, rec Resources) ([]string, *Change) {
	var lines []string
	var c Change
	diff := func(field string, a, b int64, format func(int64) string, set *string) {
		if a == b {
			return
		}
		was := "none"
		if a > 0 {
			was = format(a)
		}
		lines = append(lines, fmt.Sprintf("%s %s → %s", field, was, format(b)))
		*set = format(b)
	}
	diff("requests.cpu", cur.CPURequest, rec.CPURequest, FormatCPU, &c.RequestsCPU)
	diff("requests.memory", cur.MemoryRequest, rec.MemoryRequest, FormatMemory, &c.RequestsMemory)
	diff("limits.cpu", cur.CPULimit, rec.CPULimit, FormatCPU, &c.LimitsCPU)
	diff("limits.memory", cur.MemoryLimit, rec.MemoryLimit, FormatMemory, &c.LimitsMemory)
	if c.IsZero() {
		return nil, nil
	}
	return lines, &c
}

func (t *Totals) add(r Recommendation) {
	if r.Evidence.Source == SourceNone {
		return
	}
	n := float64(r.Replicas)
	dCPU := float64(r.Current.CPURequest-r.Recommended.CPURequest) * n / 1000
	dMem := float64(r.Current.MemoryRequest-r.Recommended.MemoryRequest) * n / (1 << 30)
	if dCPU > 0 {
		t.CPUFreedCores += dCPU
	} else {
		t.CPUMissingCores -= dCPU
	}
	if dMem > 0 {
		t.MemoryFreedGiB += dMem
	} else {
		t.MemoryMissingGiB -= dMem
	}
}

func statsOf(v []int64) Stats {
	s := slices.Clone(v)
	slices.Sort(s)
	q := func(p float64) int64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(i, 0)]
	}
	return Stats{P50: q(0.5), P90: q(0.9), P95: q(0.95), P99: q(0.99), Max: s[len(s)-1]}
}

func roundUp(v, step int64) int64 {
	return (v + step - 1) / step * step
}

// FormatCPU writes millicores as Kubernetes does: "250m", "2".
func FormatCPU(m int64) string {
	return resource.NewMilliQuantity(m, resource.DecimalSI).String()
}

// FormatMemory writes bytes in binary units: "300Mi", "1536Mi", "2Gi".
func FormatMemory(b int64) string {
	if b%(1<<20) != 0 {
		return fmt.Sprintf("%.1fMi", float64(b)/(1<<20))
	}
	return resource.NewQuantity(b, resource.BinarySI).String()
}

// ParseWindow reads a window such as 7d, 36h or 90m.
func ParseWindow(s string) (time.Duration, error) {
	if s == "" {
		return DefaultWindow, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || days <= 0 || fmt.Sprint(days) != n {
			return 0, fmt.Errorf("invalid window %q: write e.g. 7d, 36h or 90m", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid window %q: write e.g. 7d, 36h or 90m", s)
	}
	return d, nil
}

// FormatWindow writes a window the way ParseWindow reads it.
func FormatWindow(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

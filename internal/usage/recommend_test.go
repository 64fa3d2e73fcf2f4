package usage

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

type podSpec struct {
	req, lim corev1.ResourceList
	cpu, mem string // usage; "" for none
	oom      bool
}

func rl(cpu, mem string) corev1.ResourceList {
	l := corev1.ResourceList{}
	if cpu != "" {
		l[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		l[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return l
}

// deployment builds a Deployment, its ReplicaSet, pods and their usage.
func deployment(ns, name string, pods ...podSpec) (appsv1.Deployment, appsv1.ReplicaSet, []corev1.Pod, []metricsv1beta1.PodMetrics) {
	d := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "/" + name)}}
	ctrl := true
	rs := appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-abc", UID: types.UID(ns + "/" + name + "-abc"),
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: name, UID: d.UID, Controller: &ctrl}}}}
	var out []corev1.Pod
	var mets []metricsv1beta1.PodMetrics
	for i, ps := range pods {
		p := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-abc-%d", name, i), CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)),
				OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &ctrl}}},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{Requests: ps.req, Limits: ps.lim}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "app"}}},
		}
		if ps.oom {
			p.Status.ContainerStatuses[0].RestartCount = 3
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}
		}
		out = append(out, p)
		if ps.cpu != "" {
			mets = append(mets, metricsv1beta1.PodMetrics{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: p.Name},
				Containers: []metricsv1beta1.ContainerMetrics{{Name: "app", Usage: rl(ps.cpu, ps.mem)}}})
		}
	}
	return d, rs, out, mets
}

func snapshotOf(hpas []autoscalingv2.HorizontalPodAutoscaler, ds ...func() (appsv1.Deployment, appsv1.ReplicaSet, []corev1.Pod, []metricsv1beta1.PodMetrics)) *Snapshot {
	var deploys []appsv1.Deployment
	var rss []appsv1.ReplicaSet
	var pods []corev1.Pod
	var mets []metricsv1beta1.PodMetrics
	for _, f := range ds {
		d, rs, p, m := f()
		deploys, rss, pods, mets = append(deploys, d), append(rss, rs), append(pods, p...), append(mets, m...)
	}
	return NewSnapshot(now, Scope{}, pods, rss, deploys, nil, nil, hpas, mets)
}

func only(t *testing.T, r *Report, name string) Recommendation {
	t.Helper()
	i := slices.IndexFunc(r.Recommendations, func(x Recommendation) bool { return x.Workload.Name == name })
	if i < 0 {
		t.Fatalf("no recommendation for %s in %+v", name, r.Recommendations)
	}
	return r.Recommendations[i]
}

func hasFinding(r Recommendation, code FindingCode, res string) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Code == code && f.Resource == res })
}

func TestRecommendFromSnapshot(t *testing.T) {
	t.Parallel()
	over := podSpec{req: rl("2", "2Gi"), lim: rl("4", "4Gi"), cpu: "100m", mem: "300Mi"}
	snap := snapshotOf(nil, func() (appsv1.Deployment, appsv1.ReplicaSet, []corev1.Pod, []metricsv1beta1.PodMetrics) {
		return deployment("shop", "backend", over, over)
	})
	rep := Recommend(snap, Options{})
	r := only(t, rep, "backend")

	// p95 100m × 1.15 = 115m; memory 300Mi × 1.15 = 345Mi → 348Mi (4Mi steps).
	want := Resources{CPURequest: 115, CPULimit: 4000, MemoryRequest: 348 << 20, MemoryLimit: 4 << 30}
	if r.Recommended != want {
		t.Errorf("recommended %+v, want %+v (limits kept: they reserve nothing)", r.Recommended, want)
	}
	if r.Verdict != VerdictOversized || r.Confidence != ConfidenceLow || r.Evidence.Source != SourceMetricsServer || r.Evidence.Samples != 2 {
		t.Errorf("verdict %s, confidence %s, source %s, samples %d; want oversized, low, metrics-server, 2", r.Verdict, r.Confidence, r.Evidence.Source, r.Evidence.Samples)
	}
	if r.Apply == nil || r.Apply.RequestsCPU != "115m" || r.Apply.RequestsMemory != "348Mi" || r.Apply.LimitsCPU != "" || r.Apply.LimitsMemory != "" {
		t.Errorf("apply %+v, want requests only", r.Apply)
	}
	// 2 replicas × (2000m − 115m) and × (2048Mi − 348Mi).
	if got := rep.Totals; fmt.Sprintf("%.3f %.3f", got.CPUFreedCores, got.MemoryFreedGiB) != "3.770 3.320" || got.CPUMissingCores != 0 {
		t.Errorf("totals %+v, want 3.770 cores and 3.320 GiB freed", got)
	}
	if len(rep.Notes) == 0 {
		t.Error("a snapshot-only report must say so in its notes")
	}
}

func TestRecommendRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pod   podSpec
		hpa   bool
		check func(t *testing.T, r Recommendation)
	}{
		{
			name: "never below the peak",
			pod:  podSpec{req: rl("100m", "64Mi"), lim: rl("200m", "128Mi"), cpu: "180m", mem: "120Mi"},
			check: func(t *testing.T, r Recommendation) {
				if r.Recommended.CPURequest < 180 || r.Recommended.MemoryRequest < 120<<20 {
					t.Errorf("recommended %+v is below the observed peak 180m / 120Mi", r.Recommended)
				}
				if r.Verdict != VerdictUndersized || !hasFinding(r, FindingLimitBelowPeak, "memory") {
					t.Errorf("verdict %s findings %+v: want undersized and memory near its limit", r.Verdict, r.Findings)
				}
				if r.Recommended.MemoryLimit < r.Recommended.MemoryRequest*3/2 {
					t.Errorf("memory limit %d not raised to 1.5 × request %d", r.Recommended.MemoryLimit, r.Recommended.MemoryRequest)
				}
			},
		},
		{
			name: "an OOM kill raises memory above the limit it was killed at",
			pod:  podSpec{req: rl("100m", "256Mi"), lim: rl("500m", "512Mi"), cpu: "50m", mem: "100Mi", oom: true},
			check: func(t *testing.T, r Recommendation) {
				if r.Recommended.MemoryRequest < 512<<20*6/5 || r.Recommended.MemoryLimit <= 512<<20 {
					t.Errorf("recommended memory %s / %s: want at least 1.2 × 512Mi and a higher limit",
						FormatMemory(r.Recommended.MemoryRequest), FormatMemory(r.Recommended.MemoryLimit))
				}
				if !hasFinding(r, FindingOOMKilled, "memory") || r.Evidence.OOMKilled != 1 || r.Evidence.Restarts != 3 {
					t.Errorf("findings %+v evidence %+v: want the OOM kill", r.Findings, r.Evidence)
				}
			},
		},
		{
			name: "missing requests and limits, and an HPA without a CPU request",
			pod:  podSpec{cpu: "30m", mem: "50Mi"},
			hpa:  true,
			check: func(t *testing.T, r Recommendation) {
				for _, res := range []string{"cpu", "memory"} {
					if !hasFinding(r, FindingMissingRequest, res) || !hasFinding(r, FindingMissingLimit, res) {
						t.Errorf("no missing request/limit finding for %s: %+v", res, r.Findings)
					}
				}
				if !hasFinding(r, FindingHPAWithoutCPURequest, "cpu") {
					t.Errorf("no HPA finding: %+v", r.Findings)
				}
				if r.Apply == nil || r.Apply.RequestsCPU == "" || r.Apply.LimitsMemory == "" {
					t.Errorf("apply %+v: want every missing value set", r.Apply)
				}
			},
		},
		{
			name: "within 20% is kept",
			pod:  podSpec{req: rl("100m", "128Mi"), lim: rl("200m", "256Mi"), cpu: "75m", mem: "100Mi"},
			check: func(t *testing.T, r Recommendation) {
				if r.Verdict != VerdictRightSized || r.Apply != nil || r.Recommended != r.Current {
					t.Errorf("verdict %s apply %+v recommended %+v: want right-sized, nothing to apply", r.Verdict, r.Apply, r.Recommended)
				}
			},
		},
		{
			name: "no usage: findings only",
			pod:  podSpec{req: rl("100m", ""), lim: rl("", "")},
			check: func(t *testing.T, r Recommendation) {
				if r.Verdict != VerdictNoUsage || r.Confidence != ConfidenceNone || r.Apply != nil {
					t.Errorf("verdict %s confidence %s apply %+v", r.Verdict, r.Confidence, r.Apply)
				}
				if !hasFinding(r, FindingMissingRequest, "memory") {
					t.Errorf("findings %+v", r.Findings)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hpas []autoscalingv2.HorizontalPodAutoscaler
			if tc.hpa {
				util := int32(70)
				hpas = append(hpas, autoscalingv2.HorizontalPodAutoscaler{
					ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
					Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
						ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web"},
						Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
							Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &util}}}},
					},
				})
			}
			snap := snapshotOf(hpas, func() (appsv1.Deployment, appsv1.ReplicaSet, []corev1.Pod, []metricsv1beta1.PodMetrics) {
				return deployment("shop", "web", tc.pod)
			})
			tc.check(t, only(t, Recommend(snap, Options{}), "web"))
		})
	}
}

func TestRecommendFromHistory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "usage", "ctx.json")
	h, err := LoadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	key := SeriesKey{Namespace: "shop", Kind: "Deployment", Name: "backend", Container: "app"}
	// Two days every 5 minutes: 40m, with a 400m burst one sample in 20
	// (5%: the 95th percentile sits at the edge) and memory up to 600Mi once.
	for i := range 2 * 288 {
		cpu, mem := int64(40), int64(200<<20)
		if i%20 == 0 {
			cpu = 400
		}
		if i == 100 {
			mem = 600 << 20
		}
		h.Record(Sample{Key: key, Time: now.Add(-time.Duration(i) * 5 * time.Minute), CPUMilli: cpu, MemoryBytes: mem})
	}
	// A sample older than the window, and one of another series.
	h.Record(Sample{Key: key, Time: now.AddDate(0, 0, -20), CPUMilli: 5000, MemoryBytes: 8 << 30})
	if err := h.Save(path, now); err != nil {
		t.Fatal(err)
	}
	h, err = LoadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	snap := snapshotOf(nil, func() (appsv1.Deployment, appsv1.ReplicaSet, []corev1.Pod, []metricsv1beta1.PodMetrics) {
		return deployment("shop", "backend", podSpec{req: rl("2", "2Gi"), lim: rl("4", "4Gi"), cpu: "40m", mem: "200Mi"})
	})
	r := only(t, Recommend(snap, Options{Window: 7 * 24 * time.Hour, History: h}), "backend")
	if r.Evidence.Source != SourceHistory || r.Evidence.Samples != 576 || r.Confidence != ConfidenceHigh {
		t.Fatalf("evidence %+v confidence %s: want 576 history samples, high", r.Evidence, r.Confidence)
	}
	if c := r.Evidence.CPU; c.Max != 400 || c.P50 < 40 || c.P50 > 42 {
		t.Errorf("cpu stats %+v: want p50 ≈ 40m (within a 5%% bucket), max 400m", c)
	}
	// The burst is the peak: the request is never below it.
	if r.Recommended.CPURequest < 400 || r.Recommended.MemoryRequest < 600<<20 {
		t.Errorf("recommended %+v below the peaks 400m / 600Mi", r.Recommended)
	}
	if r.Verdict != VerdictOversized {
		t.Errorf("verdict %s, want oversized", r.Verdict)
	}
	// The 20-day-old sample is outside the 7-day window.
	if r.Evidence.CPU.Max == 5000 {
		t.Error("a sample outside the window was used")
	}
}

func TestHistoryBounds(t *testing.T) {
	t.Parallel()
	h := &History{Version: HistoryVersion}
	key := SeriesKey{Namespace: "a", Kind: "Pod", Name: "p", Container: "c"}
	for d := range MaxDays + 10 {
		h.Record(Sample{Key: key, Time: now.AddDate(0, 0, -d), CPUMilli: 10, MemoryBytes: 1 << 20})
	}
	path := filepath.Join(t.TempDir(), "h.json")
	if err := h.Save(path, now); err != nil {
		t.Fatal(err)
	}
	got, err := LoadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.Series[0].Days); n != MaxDays+1 {
		t.Errorf("%d days kept, want %d (today and %d before)", n, MaxDays+1, MaxDays)
	}
}

func TestParseWindow(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "36h": 36 * time.Hour, "": DefaultWindow} {
		if got, err := ParseWindow(in); err != nil || got != want {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0d", "-1d", "7x", "d", "1.5d", "-3h"} {
		if _, err := ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%q) accepted", bad)
		}
	}
}

package usage

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

// benchSnapshot is the shape bench/diagnose seeds on a sandbox: 50
// namespaces of 100 pods (a 10-replica and a 2-replica Deployment, 88 bare
// pods), each with the seeder's requests (10m, 32Mi; limit 64Mi) and a
// usage sample, some pods OOMKilled.
func benchSnapshot() *Snapshot {
	var deploys []appsv1.Deployment
	var rss []appsv1.ReplicaSet
	var pods []corev1.Pod
	var mets []metricsv1beta1.PodMetrics
	seeded := podSpec{req: rl("10m", "32Mi"), lim: rl("", "64Mi"), cpu: "3m", mem: "20Mi"}
	for n := range 50 {
		ns := fmt.Sprintf("bench-%02d", n)
		web := make([]podSpec, 10)
		for i := range web {
			web[i] = seeded
		}
		broken := []podSpec{seeded, seeded}
		if n%4 == 1 {
			broken[0].oom, broken[1].oom = true, true
		}
		for _, d := range []struct {
			name string
			pods []podSpec
		}{{"web", web}, {"broken", broken}} {
			dep, rs, p, m := deployment(ns, d.name, d.pods...)
			deploys, rss, pods, mets = append(deploys, dep), append(rss, rs), append(pods, p...), append(mets, m...)
		}
		for i := range 88 {
			_, _, p, m := deployment(ns, "worker", seeded)
			p[0].Name, p[0].OwnerReferences = fmt.Sprintf("worker-%03d", i), nil
			m[0].ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: p[0].Name}
			pods, mets = append(pods, p...), append(mets, m...)
		}
	}
	return NewSnapshot(now, Scope{}, pods, rss, deploys, nil, nil, nil, mets)
}

// BenchmarkRecommend5000 is `recommend -A` over 5,000 pods after the lists
// (the part that grows with the cluster), against TopPods over the same
// snapshot: one pass over the pods, the least any usage report costs.
func BenchmarkRecommend5000(b *testing.B) {
	snap := benchSnapshot()
	if len(snap.Pods) != 5000 {
		b.Fatalf("%d pods, want 5000", len(snap.Pods))
	}
	b.Run("recommend", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r := Recommend(snap, Options{}); len(r.Recommendations) != 50*(2+88) {
				b.Fatalf("%d recommendations", len(r.Recommendations))
			}
		}
	})
	b.Run("baseline-top-pods", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r := TopPods(snap, SortWaste); len(r.Containers) != 5000 {
				b.Fatalf("%d rows", len(r.Containers))
			}
		}
	})
}

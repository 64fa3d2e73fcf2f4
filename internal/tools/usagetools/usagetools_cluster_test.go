package usagetools_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/sandbox"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
	"github.com/opsagent/opsagent/internal/tools/toolstest"
	"github.com/opsagent/opsagent/internal/tools/usagetools"
	"github.com/opsagent/opsagent/internal/toolset"
	"github.com/opsagent/opsagent/internal/usage"
)

func simDeployment(name string, replicas int32, req, lim corev1.ResourceList, annotations, labels map[string]string) *appsv1.Deployment {
	sel := map[string]string{"app": name}
	podLabels := map[string]string{"app": name}
	for k, v := range labels {
		podLabels[k] = v
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: annotations},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To(int64(0)),
					Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1",
						Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}},
				},
			},
		},
	}
}

func quantities(cpu, mem string) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
}

// waitForUsage waits until metrics-server reports every pod of the
// namespace that matches selector (two scrapes after the pods start).
func waitForUsage(t *testing.T, env *testcluster.Env, selector string, pods int) {
	t.Helper()
	mc, err := metricsclient.NewForConfig(env.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for {
		got := 0
		l, err := mc.MetricsV1beta1().PodMetricses(env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err == nil {
			got = len(l.Items)
		}
		if got >= pods {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("metrics-server reported %d of the %d pods of %s in 2 minutes (last error: %v)", got, pods, selector, err)
		case <-time.After(time.Second):
		}
	}
}

func find(t *testing.T, res usagetools.Result, name string) usage.Recommendation {
	t.Helper()
	i := slices.IndexFunc(res.Recommendations, func(r usage.Recommendation) bool { return r.Workload.Name == name })
	if i < 0 {
		t.Fatalf("no recommendation for %s: %+v", name, res.Recommendations)
	}
	return res.Recommendations[i]
}

// On the sandbox with simulated usage: the over-provisioned backend gets
// lower requests with their evidence, the OOM-killed database more memory,
// and applying the backend's recommendation through the gate changes its
// Deployment's resources and nothing else.
func TestRecommendAndApply(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	env.RequireMetricsAPI(t)
	ctx := t.Context()
	deploys := env.Client.AppsV1().Deployments(env.Namespace)
	backend := simDeployment("backend", 2, quantities("500m", "512Mi"), quantities("1", "1Gi"),
		map[string]string{sandbox.SimCPUAnnotation: "50m", sandbox.SimMemoryAnnotation: "100Mi"}, nil)
	db := simDeployment("db", 1, quantities("100m", "128Mi"), quantities("500m", "256Mi"),
		map[string]string{sandbox.SimCPUAnnotation: "20m", sandbox.SimMemoryAnnotation: "200Mi"},
		map[string]string{sandbox.SimPodStateLabel: sandbox.SimOOMKilled})
	for _, d := range []*appsv1.Deployment{backend, db} {
		if _, err := deploys.Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitForUsage(t, env, "app=backend", 2)

	c, err := kube.NewClients(env.Getter())
	if err != nil {
		t.Fatal(err)
	}
	gate := &tools.Gate{Registry: tools.NewRegistry(toolset.New(c, toolset.Options{})...),
		Approver: &tools.Policy{AssumeYes: true}, Scope: tools.Scope{Namespace: env.Namespace}}
	// The OOM simulation needs a first kill before the status says so.
	var res usagetools.Result
	deadline := time.Now().Add(time.Minute)
	for {
		rec := toolstest.MustCall(t, gate, usagetools.NameRecommend, usagetools.RecommendArgs{})
		res = toolstest.ResultAs[usagetools.Result](t, rec)
		if find(t, res, "db").Evidence.OOMKilled > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}

	b := find(t, res, "backend")
	if b.Verdict != usage.VerdictOversized || b.Evidence.Source != usage.SourceMetricsServer || b.Evidence.Samples != 2 || b.Confidence != usage.ConfidenceLow {
		t.Errorf("backend: verdict %s, evidence %+v, confidence %s; want oversized from 2 metrics-server samples, low", b.Verdict, b.Evidence, b.Confidence)
	}
	// 50m × 1.15 → 60m (5m steps); 100Mi × 1.15 → 116Mi (4Mi steps). CPU
	// is a rate between two scrapes, so it reads 50m give or take a
	// millicore of timing.
	if b.Recommended.CPURequest != 60 || b.Recommended.MemoryRequest != 116<<20 || b.Evidence.CPU.Max < 49 || b.Evidence.CPU.Max > 52 || b.Evidence.Memory.Max != 100<<20 {
		t.Errorf("backend: recommended %+v from cpu %+v memory %+v; want 60m and 116Mi from 50m / 100Mi", b.Recommended, b.Evidence.CPU, b.Evidence.Memory)
	}
	if b.Recommended.CPULimit != 1000 || b.Recommended.MemoryLimit != 1<<30 {
		t.Errorf("backend: limits %+v changed; limits are never lowered", b.Recommended)
	}
	d := find(t, res, "db")
	if d.Evidence.OOMKilled == 0 || !slices.ContainsFunc(d.Findings, func(f usage.Finding) bool { return f.Code == usage.FindingOOMKilled }) {
		t.Fatalf("db: no OOM kill in %+v / %+v", d.Evidence, d.Findings)
	}
	if d.Recommended.MemoryRequest < 256<<20*6/5 || d.Recommended.MemoryLimit <= 256<<20 || d.Verdict != usage.VerdictUndersized {
		t.Errorf("db: recommended %+v (%s); want memory above the 256Mi it was killed at", d.Recommended, d.Verdict)
	}

	// Apply the backend's recommendation through the gate.
	before, err := deploys.Get(ctx, "backend", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dbBefore, err := deploys.Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(res.Apply, func(c usagetools.Call) bool { return c.Workload == "deployment/backend" })
	if i < 0 || res.Apply[i].Tool != kubetools.NameSetResources {
		t.Fatalf("no set_resources call for the backend in %+v", res.Apply)
	}
	rec := gate.Call(ctx, res.Apply[i].Tool, json.RawMessage(res.Apply[i].Args))
	if rec.Err() != nil {
		t.Fatalf("apply: %v", rec.Err())
	}
	if rec.Preview == nil || len(rec.Preview.Targets) != 1 || rec.Preview.Targets[0].Name != "backend" {
		t.Errorf("preview %+v: want the backend Deployment as its only target", rec.Preview)
	}
	after, err := deploys.Get(ctx, "backend", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := after.Spec.Template.Spec.Containers[0].Resources
	want := corev1.ResourceRequirements{Requests: quantities("60m", "116Mi"), Limits: quantities("1", "1Gi")}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("backend resources after apply %v, want %v", got, want)
	}
	// Nothing else: the rest of the spec, and the other Deployment.
	after.Spec.Template.Spec.Containers[0].Resources = before.Spec.Template.Spec.Containers[0].Resources
	if !apiequality.Semantic.DeepEqual(before.Spec, after.Spec) {
		t.Errorf("apply changed more than the resources:\nbefore %+v\nafter  %+v", before.Spec, after.Spec)
	}
	dbAfter, err := deploys.Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(dbBefore.Spec, dbAfter.Spec) {
		t.Error("applying the backend's recommendation changed the db Deployment")
	}
}

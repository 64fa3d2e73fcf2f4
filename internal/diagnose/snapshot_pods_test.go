package diagnose

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// runningPod is a pod as a kubelet reports one that runs and is Ready.
func runningPod(name string, now time.Time) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "app", UID: types.UID("uid-" + name), Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{
			Name: "web", Image: "nginx:1.27", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			Env: []corev1.EnvVar{{Name: "MODE", Value: "prod"}},
		}}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now.Add(-time.Hour))}}}},
		},
	}
}

func TestSettled(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name   string
		change func(*corev1.Pod)
		want   bool
	}{
		{"running and ready", func(*corev1.Pod) {}, true},
		{"succeeded", func(p *corev1.Pod) { p.Status = corev1.PodStatus{Phase: corev1.PodSucceeded} }, true},
		{"pending", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }, false},
		{"failed", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }, false},
		{"not ready", func(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }, false},
		{"no ready condition", func(p *corev1.Pod) { p.Status.Conditions = nil }, false},
		{"container not ready", func(p *corev1.Pod) { p.Status.ContainerStatuses[0].Ready = false }, false},
		{"container waiting", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
		}, false},
		{"a container without status", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "sidecar"})
		}, false},
		{"restarted ten minutes ago", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].RestartCount = 1
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: metav1.NewTime(now.Add(-10 * time.Minute))}
		}, false},
		{"restarted two days ago", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].RestartCount = 1
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: metav1.NewTime(now.Add(-48 * time.Hour))}
		}, true},
		{"init container completed", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "migrate"}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}}
		}, true},
		{"sidecar init container running", func(p *corev1.Pod) {
			always := corev1.ContainerRestartPolicyAlways
			p.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: &always}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "proxy", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		}, false},
		{"being deleted", func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: now} }, false},
	}
	for _, tc := range tests {
		p := runningPod("web-1", now)
		tc.change(p)
		if got := settled(p, now); got != tc.want {
			t.Errorf("%s: settled = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSettledPodsShareTheirClass: a thousand replicas on two nodes are two
// classes of one shape, and a pod built from a record has what the
// analyzers read (labels, owner, node, ports, references) and no literal
// environment value.
func TestSettledPodsShareTheirClass(t *testing.T) {
	t.Parallel()
	now := time.Now()
	s := &Snapshot{Now: now}
	owner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9", UID: "rs-uid", Controller: ptrTo(true)}}
	for i := range 1000 {
		p := runningPod(fmt.Sprintf("web-7d9-%04d", i), now)
		p.Labels = map[string]string{"app": "web", "pod-template-hash": "7d9"} // a map per pod, as decoded
		p.OwnerReferences = append([]metav1.OwnerReference(nil), owner...)
		p.Spec.NodeName = fmt.Sprintf("node-%d", i%2)
		p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}})
		s.addPod(p)
	}
	other := runningPod("other", now)
	other.Spec.Containers[0].Image = "nginx:1.28"
	s.addPod(other)
	broken := runningPod("broken", now)
	broken.Status.Conditions[0].Status = corev1.ConditionFalse
	s.addPod(broken)

	if len(s.settled) != 1001 || len(s.Pods) != 1 || s.Pods[0].Name != "broken" {
		t.Fatalf("kept %d settled and %d whole pods (%v), want 1001 and the broken one", len(s.settled), len(s.Pods), s.Pods)
	}
	classes, shapes := map[*podClass]bool{}, map[*podShape]bool{}
	for _, sp := range s.settled[:1000] {
		classes[sp.class] = true
		shapes[sp.class.shape] = true
	}
	if len(classes) != 2 || len(shapes) != 1 {
		t.Errorf("1,000 replicas on 2 nodes: %d classes and %d shapes, want 2 and 1", len(classes), len(shapes))
	}
	if s.settled[1000].class.shape == s.settled[0].class.shape {
		t.Error("a pod with another image shares the replicas' shape")
	}

	s.index()
	p := s.settled[3].pod()
	if p.Name != "web-7d9-0003" || p.Namespace != "app" || p.UID != "uid-web-7d9-0003" || p.Spec.NodeName != "node-1" ||
		p.Labels["pod-template-hash"] != "7d9" || metav1.GetControllerOf(p) == nil || metav1.GetControllerOf(p).UID != "rs-uid" {
		t.Errorf("built pod lost its identity: %+v", p.ObjectMeta)
	}
	if !settled(p, now) {
		t.Error("a built pod is not settled itself")
	}
	refs := podSpecRefs(&p.Spec)
	if len(refs) != 1 || refs[0].Name != "db" || refs[0].Key != "password" || refs[0].Via != "env DB_PASSWORD" {
		t.Errorf("references of the built pod: %+v", refs)
	}
	if got := containerPorts([]*corev1.PodSpec{&p.Spec}); len(got) != 1 || got[0].name != "http" || got[0].port != 8080 {
		t.Errorf("ports of the built pod: %+v", got)
	}
	for _, e := range p.Spec.Containers[0].Env {
		if e.Value != "" {
			t.Errorf("a literal environment value was kept: %s=%s", e.Name, e.Value)
		}
	}
	if n := len(s.podsOf("rs-uid")); n != 1000 {
		t.Errorf("podsOf(ReplicaSet) = %d pods, want 1000", n)
	}
}

// TestSettledPodsChangeNoReport diagnoses the test cluster (every pod the
// other tests made at that moment, plus a namespace of its own with the
// cases a settled pod is involved in) from one set of objects, with settled
// pods kept as records and kept whole: the reports must be the same.
func TestSettledPodsChangeNoReport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	web := ctr("web", "nginx")
	web.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	e.createDeployment(t, deploymentObj("web", 3, map[string]string{"app": "web", "tier": "front"}, podSpec(web)))
	// Running on kwok, but its Secret does not exist: a settled pod with a
	// broken reference.
	withRef := ctr("app", "busybox")
	withRef.Env = []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "token"}}}}
	e.createPod(t, "needs-secret", map[string]string{"app": "needs-secret"}, podSpec(withRef))
	e.createPod(t, "bare", map[string]string{"app": "bare"}, podSpec(web))
	for _, svc := range []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "ok"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "bad-port"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("https")}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "typo"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "wbe", "tier": "front"}, Ports: []corev1.ServicePort{{Port: 80}}}},
	} {
		if _, err := e.Client.CoreV1().Services(e.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.waitDeploymentAvailable(t, "web")

	own := Options{Namespace: e.Namespace, NamespaceExplicit: true, Logs: LogOptions{Disabled: true}, Unfolded: true}
	all := Options{AllNamespaces: true, Logs: LogOptions{Disabled: true}}
	deadline := time.Now().Add(waitTimeout)
	for {
		objs := listObjects(t, e.Client, "")
		compact, whole := e.analyze(t, own, objs), e.analyze(t, withWholePods(own), objs)
		sameReport(t, "namespace", compact, whole)
		if _, ok := findingFor(compact, RulePodMissingReference, "needs-secret"); ok &&
			hasRule(compact, RuleServiceTargetPort) && hasRule(compact, RuleServiceNoEndpoints) {
			sameReport(t, "cluster", e.analyze(t, all, objs), e.analyze(t, withWholePods(all), objs))
			s := newSnapshot(mustPlan(t, own))
			s.listed[ResPods] = true
			s.fill(&objs.Objects)
			if len(s.settled) < 4 {
				t.Errorf("only %d pods kept as settled records; the test does not test them", len(s.settled))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cases did not all show up:\n%s", reportText(compact))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func withWholePods(o Options) Options {
	o.WholePods = true
	return o
}

func mustPlan(t *testing.T, o Options) plan {
	t.Helper()
	p, err := o.plan()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func hasRule(r *Report, rule string) bool {
	for _, g := range r.Groups {
		for _, f := range g.Findings {
			if f.Rule == rule {
				return true
			}
		}
	}
	return false
}

func (e *testEnv) analyze(t *testing.T, o Options, objs *listedObjects) *Report {
	t.Helper()
	o.Now = objs.now
	rep, err := e.d.Analyze(context.Background(), o, &objs.Objects)
	if err != nil {
		t.Fatal(err)
	}
	rep.Metadata.DurationMillis = 0
	rep.Metadata.GeneratedAt = time.Time{}
	return rep
}

func sameReport(t *testing.T, what string, compact, whole *Report) {
	t.Helper()
	a, _ := json.MarshalIndent(compact, "", " ")
	b, _ := json.MarshalIndent(whole, "", " ")
	if string(a) != string(b) {
		t.Fatalf("%s: settled pods as records change the report:\n--- records:\n%s\n--- whole:\n%s", what, a, b)
	}
}

// listedObjects are Objects read once, with the time they were read at.
type listedObjects struct {
	Objects
	now time.Time
}

// listObjects reads what a diagnosis reads into Objects (Helm records
// aside), as a watcher's caches would hold it.
func listObjects(t *testing.T, c kubernetes.Interface, ns string) *listedObjects {
	t.Helper()
	ctx := context.Background()
	o := &listedObjects{now: time.Now()}
	check := func(err error) {
		if err != nil {
			t.Helper()
			t.Fatal(err)
		}
	}
	lo := metav1.ListOptions{}
	pods, err := c.CoreV1().Pods(ns).List(ctx, lo)
	check(err)
	o.Pods = ptrs(pods.Items)
	evs, err := c.CoreV1().Events(ns).List(ctx, lo)
	check(err)
	o.Events = ptrs(evs.Items)
	svcs, err := c.CoreV1().Services(ns).List(ctx, lo)
	check(err)
	o.Services = ptrs(svcs.Items)
	nodes, err := c.CoreV1().Nodes().List(ctx, lo)
	check(err)
	o.Nodes = ptrs(nodes.Items)
	deps, err := c.AppsV1().Deployments(ns).List(ctx, lo)
	check(err)
	o.Deployments = ptrs(deps.Items)
	rss, err := c.AppsV1().ReplicaSets(ns).List(ctx, lo)
	check(err)
	o.ReplicaSets = ptrs(rss.Items)
	sts, err := c.AppsV1().StatefulSets(ns).List(ctx, lo)
	check(err)
	o.StatefulSets = ptrs(sts.Items)
	dss, err := c.AppsV1().DaemonSets(ns).List(ctx, lo)
	check(err)
	o.DaemonSets = ptrs(dss.Items)
	jobs, err := c.BatchV1().Jobs(ns).List(ctx, lo)
	check(err)
	o.Jobs = ptrs(jobs.Items)
	cjs, err := c.BatchV1().CronJobs(ns).List(ctx, lo)
	check(err)
	o.CronJobs = ptrs(cjs.Items)
	hpas, err := c.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, lo)
	check(err)
	o.HPAs = ptrs(hpas.Items)
	pvcs, err := c.CoreV1().PersistentVolumeClaims(ns).List(ctx, lo)
	check(err)
	o.PVCs = ptrs(pvcs.Items)
	scs, err := c.StorageV1().StorageClasses().List(ctx, lo)
	check(err)
	o.StorageClasses = ptrs(scs.Items)
	ings, err := c.NetworkingV1().Ingresses(ns).List(ctx, lo)
	check(err)
	o.Ingresses = ptrs(ings.Items)
	ics, err := c.NetworkingV1().IngressClasses().List(ctx, lo)
	check(err)
	o.IngressClasses = ptrs(ics.Items)
	secs, err := c.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{FieldSelector: "type!=" + string(helmReleaseType)})
	check(err)
	o.Secrets = ptrs(secs.Items)
	cms, err := c.CoreV1().ConfigMaps(ns).List(ctx, lo)
	check(err)
	o.ConfigMaps = ptrs(cms.Items)
	return o
}

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// BenchmarkAddPod keeps 5,000 settled pods (five ReplicaSets on 50 nodes)
// as records and, as the baseline, whole; it reports the time to keep and
// index them and the bytes retained per pod once the pods as decoded are
// gone.
func BenchmarkAddPod(b *testing.B) {
	now := time.Now()
	pods := make([]*corev1.Pod, 5000)
	for i := range pods {
		p := runningPod(fmt.Sprintf("web-%d-%04d", i%5, i), now)
		p.Labels = map[string]string{"app": fmt.Sprintf("web-%d", i%5), "pod-template-hash": "7d9f8"}
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: fmt.Sprintf("web-%d-7d9f8", i%5), UID: types.UID(fmt.Sprintf("rs-%d", i%5)), Controller: ptrTo(true)}}
		p.Spec.NodeName = fmt.Sprintf("node-%02d", i%50)
		p.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access-x1y2z", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptrTo(int64(3607))}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
		}}}}}
		p.Spec.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptrTo(int64(300))}}
		pods[i] = p
	}
	for _, whole := range []bool{false, true} {
		name := map[bool]string{false: "settled as records", true: "baseline whole"}[whole]
		b.Run(name, func(b *testing.B) {
			var ms0, ms1 runtime.MemStats
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&ms0)
				// Copies, as a page's decoded pods are: each owns its data.
				copies := make([]*corev1.Pod, len(pods))
				for i, p := range pods {
					copies[i] = p.DeepCopy()
				}
				s := &Snapshot{Now: now, scope: scope{wholePods: whole}}
				b.StartTimer()
				for i, p := range copies {
					s.addPod(p)
					copies[i] = nil
				}
				s.index()
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&ms1)
				runtime.KeepAlive(s)
				b.StartTimer()
			}
			b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/float64(len(pods)), "retained-B/pod")
		})
	}
}

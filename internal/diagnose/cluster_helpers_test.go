package diagnose

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/testcluster"
)

// simLabel is the sandbox's failure-simulation label; simManual is a value no
// stage acts on, so a test can write the pod's status itself.
const (
	simLabel  = "sim.opsagent.dev/state"
	simManual = "manual"
)

// waitTimeout bounds how long a test waits for the simulated failure (kwok
// acts within a second or two; the controllers within a few more).
const waitTimeout = 45 * time.Second

type testEnv struct {
	*testcluster.Env
	d *Diagnoser
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	env := testcluster.New(t)
	d, err := NewForConfig(env.RESTConfig, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{Env: env, d: d}
}

func (e *testEnv) diagnose(t *testing.T, o Options) *Report {
	t.Helper()
	if o.Namespace == "" && !o.AllNamespaces {
		o.Namespace = e.Namespace
		o.NamespaceExplicit = true
	}
	rep, err := e.d.Diagnose(context.Background(), o)
	if err != nil {
		t.Fatalf("diagnose: %v", err)
	}
	return rep
}

// waitFor diagnoses until cond holds for the report, and returns it.
func (e *testEnv) waitFor(t *testing.T, o Options, what string, cond func(*Report) bool) *Report {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		rep := e.diagnose(t, o)
		if cond(rep) {
			return rep
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last report:\n%s", waitTimeout, what, reportText(rep))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitFinding waits for a finding of rule about the object called name.
func (e *testEnv) waitFinding(t *testing.T, o Options, rule, name string) (Finding, *Report) {
	t.Helper()
	rep := e.waitFor(t, o, rule+" about "+name, func(r *Report) bool { _, ok := findingFor(r, rule, name); return ok })
	f, _ := findingFor(rep, rule, name)
	return f, rep
}

// waitRule waits for a finding of rule whose object name starts with prefix
// (pods of a Deployment have generated names), with its log read if it asks
// for one, and whose text holds every settled string: a finding can appear
// before the cluster settles (one of two pods failing yet), so a test names
// the state it asserts on and waits for it rather than racing the kubelet.
func (e *testEnv) waitRule(t *testing.T, o Options, rule, prefix string, settled ...string) (Finding, *Report) {
	t.Helper()
	var got Finding
	rep := e.waitFor(t, o, rule+" about "+prefix, func(r *Report) bool {
		for _, g := range r.Groups {
			for _, f := range g.Findings {
				if f.Rule == rule && strings.HasPrefix(f.Object.Name, prefix) && (f.logs == nil || f.Evidence.Logs != nil) && containsAll(allText(f), settled) {
					got = f
					return true
				}
			}
		}
		return false
	})
	return got, rep
}

func findingFor(r *Report, rule, name string) (Finding, bool) {
	for _, g := range r.Groups {
		for _, f := range g.Findings {
			if f.Rule == rule && (f.Object.Name == name || slices.Contains(f.Similar, name)) {
				return f, true
			}
		}
	}
	return Finding{}, false
}

func groupOf(r *Report, rule, name string) (Group, bool) {
	for _, g := range r.Groups {
		for _, f := range g.Findings {
			if f.Rule == rule && f.Object.Name == name {
				return g, true
			}
		}
	}
	return Group{}, false
}

func reportText(r *Report) string {
	var b strings.Builder
	_ = WriteText(&b, r, TextOptions{})
	return b.String()
}

func allText(f Finding) string {
	var b strings.Builder
	b.WriteString(f.Summary + "\n" + f.Cause + "\n")
	for _, s := range f.Evidence.Status {
		b.WriteString(s + "\n")
	}
	for _, e := range f.Evidence.Events {
		b.WriteString(e.Reason + ": " + e.Message + "\n")
	}
	for _, fx := range f.Fixes {
		b.WriteString(fx.Description + " $ " + fx.Command + "\n")
	}
	return b.String()
}

func mustContain(t *testing.T, what, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(text, s) {
			t.Errorf("%s does not contain %q:\n%s", what, s, text)
		}
	}
}

func containsAll(text string, subs []string) bool {
	for _, s := range subs {
		if !strings.Contains(text, s) {
			return false
		}
	}
	return true
}

func hasFix(f Finding, sub string) bool {
	return slices.ContainsFunc(f.Fixes, func(x Fix) bool { return strings.Contains(x.Command, sub) })
}

// Object builders.

func podSpec(containers ...corev1.Container) corev1.PodSpec {
	zero := int64(0)
	return corev1.PodSpec{Containers: containers, TerminationGracePeriodSeconds: &zero}
}

func ctr(name, image string) corev1.Container { return corev1.Container{Name: name, Image: image} }

func withMemoryLimit(c corev1.Container, limit string) corev1.Container {
	c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limit)}
	return c
}

func withRequests(c corev1.Container, cpu string) corev1.Container {
	c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	return c
}

func (e *testEnv) createPod(t *testing.T, name string, labels map[string]string, spec corev1.PodSpec) *corev1.Pod {
	t.Helper()
	p, err := e.Client.CoreV1().Pods(e.Namespace).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: spec,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
	return p
}

// setPodStatus writes a pod's status as a kubelet would, retrying when the
// scheduler or kwok changed the pod in between.
func (e *testEnv) setPodStatus(t *testing.T, name string, status corev1.PodStatus) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := e.Client.CoreV1().Pods(e.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		p.Status = status
		_, err = e.Client.CoreV1().Pods(e.Namespace).UpdateStatus(context.Background(), p, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("set status of pod %s: %v", name, err)
	}
}

func deploymentObj(name string, replicas int32, labels map[string]string, spec corev1.PodSpec) *appsv1.Deployment {
	sel := map[string]string{"app": name}
	podLabels := map[string]string{"app": name}
	for k, v := range labels {
		podLabels[k] = v
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: spec},
		},
	}
}

func (e *testEnv) createDeployment(t *testing.T, d *appsv1.Deployment) *appsv1.Deployment {
	t.Helper()
	out, err := e.Client.AppsV1().Deployments(e.Namespace).Create(context.Background(), d, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create deployment %s: %v", d.Name, err)
	}
	return out
}

// waitDeploymentAvailable waits until every replica of a Deployment is
// available.
func (e *testEnv) waitDeploymentAvailable(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		d, err := e.Client.AppsV1().Deployments(e.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == ptr.Deref(d.Spec.Replicas, 1) &&
			d.Status.UpdatedReplicas == ptr.Deref(d.Spec.Replicas, 1) && d.Status.Replicas == ptr.Deref(d.Spec.Replicas, 1) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s not available after %s: %v %+v", name, waitTimeout, err, d.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// logsWork reports whether the sandbox serves pod logs (a restarted sandbox
// may point nodes at a stale kubelet port).
func logsWork(l *LogExcerpt) (bool, string) {
	if l == nil {
		return false, "no log read"
	}
	if l.Error != "" && (strings.Contains(l.Error, "connection refused") || strings.Contains(l.Error, "dial tcp")) {
		return false, "the sandbox's kubelet endpoint does not answer: " + l.Error
	}
	return true, ""
}

func ptrTo[T any](v T) *T { return &v }

func intOrStr(port int) intstr.IntOrString { return intstr.FromInt(port) }

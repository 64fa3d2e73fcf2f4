package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/sandbox"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/usage"
	"github.com/opsagent/opsagent/internal/usage/promtest"
)

// `top` shows the simulated usage next to the requests; `recommend --apply
// --dry-run` previews the change through the gate and changes nothing.
func TestTopAndRecommendCommands(t *testing.T) {
	env := testcluster.New(t)
	env.RequireMetricsAPI(t)
	isolateEnv(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir()) // no usage history, and the audit log
	t.Setenv(envPrometheusURL, "")
	requests := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"},
					Annotations: map[string]string{sandbox.SimCPUAnnotation: "40m", sandbox.SimMemoryAnnotation: "64Mi"}},
				Spec: corev1.PodSpec{TerminationGracePeriodSeconds: ptr.To(int64(0)), Containers: []corev1.Container{{
					Name: "app", Image: "registry.example/web:1", Resources: corev1.ResourceRequirements{Requests: requests}}}},
			},
		},
	}
	if _, err := env.Client.AppsV1().Deployments(env.Namespace).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kc := []string{"--kubeconfig", env.Kubeconfig, "-n", env.Namespace}

	var top usage.TopReport
	for deadline := time.Now().Add(2 * time.Minute); ; {
		res := runCLI(t, "", append([]string{"top", "pods", "-o", "json"}, kc...)...)
		if res.code != 0 {
			t.Fatalf("top: exit %d: %s", res.code, res.stderr)
		}
		if err := json.Unmarshal([]byte(res.stdout), &top); err != nil {
			t.Fatalf("top -o json: %v\n%s", err, res.stdout)
		}
		if len(top.Containers) == 1 && top.Containers[0].CPU.Usage > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no usage from top after 2 minutes: %s", res.stdout)
		}
		time.Sleep(2 * time.Second)
	}
	c := top.Containers[0]
	// CPU is a rate between two scrapes: 40m give or take a millicore.
	if c.CPU.Usage < 39 || c.CPU.Usage > 42 || c.CPU.Request != 1000 || c.CPU.PctOfRequest == nil || *c.CPU.PctOfRequest < 3.9 || *c.CPU.PctOfRequest > 4.2 || c.Memory.Usage != 64<<20 {
		t.Errorf("top row %+v: want 40m of a 1-core request (4%%) and 64Mi", c)
	}
	if c.Workload.Kind != "Deployment" || c.Workload.Name != "web" {
		t.Errorf("top row workload %+v, want Deployment web", c.Workload)
	}

	text := runCLI(t, "", append([]string{"recommend"}, kc...)...)
	if text.code != 0 || !strings.Contains(text.stdout, "oversized") || !strings.Contains(text.stdout, "requests.cpu 1 → 50m") ||
		!strings.Contains(text.stdout, "one metrics-server snapshot") {
		t.Errorf("recommend (exit %d):\n%s%s", text.code, text.stdout, text.stderr)
	}

	res := runCLI(t, "", append([]string{"recommend", "web", "--apply", "--dry-run", "-o", "json"}, kc...)...)
	if res.code != 0 {
		t.Fatalf("recommend --apply --dry-run: exit %d: %s", res.code, res.stderr)
	}
	var out struct {
		Records []struct {
			Tool    string `json:"tool"`
			DryRun  bool   `json:"dryRun"`
			Preview *struct {
				Summary string `json:"summary"`
			} `json:"preview"`
		} `json:"records"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, res.stdout)
	}
	if len(out.Records) != 1 || out.Records[0].Tool != "set_resources" || !out.Records[0].DryRun || out.Records[0].Preview == nil ||
		!strings.Contains(out.Records[0].Preview.Summary, "requests.cpu 1 → 50m, requests.memory 1Gi → 76Mi") {
		t.Fatalf("records %+v", out.Records)
	}
	live, err := env.Client.AppsV1().Deployments(env.Namespace).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := live.Spec.Template.Spec.Containers[0].Resources.Requests; got.Cpu().String() != "1" {
		t.Errorf("a dry run changed the requests to %v", got)
	}
}

// With --prometheus-url (or its variable) recommend reads a real
// Prometheus, scraping the sandbox's simulated kubelet metrics, and says so;
// a Prometheus asked for that does not answer is an error, not a fallback.
func TestRecommendFromPrometheusCommand(t *testing.T) {
	bin := promtest.Binary(t)
	env := testcluster.New(t)
	isolateEnv(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv(envPrometheusURL, "")
	env.Deployment(t, "api", 1, func(d *appsv1.Deployment) {
		d.Spec.Template.Annotations = map[string]string{sandbox.SimCPUAnnotation: "100m", sandbox.SimMemoryAnnotation: "128Mi"}
		d.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	})
	url := promtest.Start(t, bin, env)
	promtest.WaitForSamples(t, url, usage.PromQuery{Namespace: env.Namespace, Window: 2 * time.Minute}, 10)
	kc := []string{"--kubeconfig", env.Kubeconfig, "-n", env.Namespace, "--window", "2m"}

	text := runCLI(t, "", append([]string{"recommend", "--prometheus-url", url}, kc...)...)
	t.Logf("recommend --prometheus-url:\n%s", text.stdout)
	if text.code != 0 || !strings.Contains(text.stdout, "prometheus 2m0s, ") || !strings.Contains(text.stdout, "Usage from Prometheus at "+url) ||
		!strings.Contains(text.stdout, "requests.cpu 1 → 120m") || !strings.Contains(text.stdout, "requests.memory 1Gi → 148Mi") {
		t.Errorf("recommend --prometheus-url (exit %d):\n%s%s", text.code, text.stdout, text.stderr)
	}

	t.Setenv(envPrometheusURL, url)
	res := runCLI(t, "", append([]string{"recommend", "-o", "json"}, kc...)...)
	var rep usage.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); res.code != 0 || err != nil {
		t.Fatalf("recommend -o json with $%s: exit %d, %v\n%s%s", envPrometheusURL, res.code, err, res.stdout, res.stderr)
	}
	if len(rep.Recommendations) != 1 || rep.Prometheus != url || rep.Recommendations[0].Evidence.Source != usage.SourcePrometheus ||
		rep.Recommendations[0].Evidence.Samples < 10 {
		t.Errorf("report from $%s: %+v", envPrometheusURL, rep)
	}

	// Nothing listens at a port just closed; a bad URL is bad input.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	res = runCLI(t, "", append([]string{"recommend", "--prometheus-url", dead.URL}, kc...)...)
	if res.code != ExitFailed || !strings.Contains(res.stderr, "cannot reach Prometheus at "+dead.URL) || !strings.Contains(res.stderr, "unset --prometheus-url") {
		t.Errorf("unreachable Prometheus: exit %d, stderr %s", res.code, res.stderr)
	}
	res = runCLI(t, "", append([]string{"recommend", "--prometheus-url", "prometheus:9090"}, kc...)...)
	if res.code != ExitBadInput || !strings.Contains(res.stderr, "not an http(s) URL") {
		t.Errorf("bad URL: exit %d, stderr %s", res.code, res.stderr)
	}
}

package diagnose

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/tools"
)

// TestDiagnoseHealthyNamespace is the precision test: a healthy Deployment,
// Service, Ingress and PVC give zero findings with every analyzer on.
func TestDiagnoseHealthyNamespace(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	c := ctr("web", "nginx")
	c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 80}}
	spec := podSpec(c)
	spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	if _, err := e.Client.CoreV1().PersistentVolumeClaims(e.Namespace).Create(ctx, pvcObj("data", nil, corev1.PersistentVolumeFilesystem), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.createDeployment(t, deploymentObj("web", 2, nil, spec))
	_, err := e.Client.CoreV1().Services(e.Namespace).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Client.NetworkingV1().Ingresses(e.Namespace).Create(ctx, ingressObj(ptrTo("nginx"), "web", networkingv1.ServiceBackendPort{Name: "http"}, ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitDeploymentAvailable(t, "web")
	e.waitFor(t, Options{}, "the claim to bind", func(*Report) bool {
		p, err := e.Client.CoreV1().PersistentVolumeClaims(e.Namespace).Get(ctx, "data", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.ClaimBound
	})
	rep := e.diagnose(t, Options{})
	if !rep.Summary.Healthy || rep.Problems() || len(rep.Groups) != 0 {
		t.Fatalf("healthy namespace reported:\n%s", reportText(rep))
	}
	for kind, n := range map[string]int{"Deployment": 1, "ReplicaSet": 1, "Pod": 2, "Service": 1, "Ingress": 1, "PersistentVolumeClaim": 1} {
		if rep.Summary.Checked[kind] != n {
			t.Errorf("checked %d %s, want %d", rep.Summary.Checked[kind], kind, n)
		}
	}
	mustContain(t, "text", reportText(rep), "No problems found in namespace "+e.Namespace)
}

// TestDiagnoseRequests checks the performance contract: each kind is listed
// once per scope, so a whole namespace costs one request per list (plus log
// reads), whatever it holds.
func TestDiagnoseRequests(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createDeployment(t, deploymentObj("crash", 3, map[string]string{simLabel: "CrashLoopBackOff"}, podSpec(ctr("app", "busybox"))))
	var lists, logs atomic.Int32
	cfg := rest.CopyConfig(e.RESTConfig)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasSuffix(r.URL.Path, "/log") {
				logs.Add(1)
			} else {
				lists.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	d, err := NewForConfig(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, Options{Kinds: []string{"Pod"}}, "three crashing pods", func(r *Report) bool {
		return len(r.Groups) == 1 && len(r.Groups[0].Findings) == 1 && len(r.Groups[0].Findings[0].Similar) == 2
	})
	lists.Store(0)
	logs.Store(0)
	rep, err := d.Diagnose(context.Background(), Options{Namespace: e.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Options{AllNamespaces: true}.plan()
	// Secrets are two lists: values, and Helm's release records as
	// metadata (snapshot_secrets.go).
	if got, want := int(lists.Load()), len(p.need)+2; got != want {
		t.Errorf("%d API requests, want one list per resource, one more for Helm's records and the namespace's GET: %d", got, want)
	}
	// Three pods with the same problem fold into one finding, so one log is
	// read (two requests when the previous run's log is missing and the
	// current one is read instead).
	if logs.Load() > 2 || rep.Summary.Findings != 2 {
		t.Errorf("%d log reads for %d findings, want 1 for 1:\n%s", logs.Load(), rep.Summary.Findings, reportText(rep))
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestDiagnoseSelectorAndName: -l and the name filter keep only what they
// select.
func TestDiagnoseSelectorAndName(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createPod(t, "team-a-worker", map[string]string{simLabel: "CrashLoopBackOff", "team": "a"}, podSpec(ctr("app", "busybox")))
	e.createPod(t, "team-b-worker", map[string]string{simLabel: "CrashLoopBackOff", "team": "b"}, podSpec(ctr("app", "busybox")))
	e.waitFor(t, Options{}, "both pods crashing", func(r *Report) bool { return r.Summary.Findings == 2 })
	for _, o := range []Options{{Selector: "team=a"}, {Name: "team-a-worker"}} {
		rep := e.diagnose(t, o)
		if rep.Summary.Findings != 1 || rep.Groups[0].Object.Name != "team-a-worker" {
			t.Errorf("%+v: want only team-a-worker, got:\n%s", o, reportText(rep))
		}
	}
}

// TestDiagnoseRedaction: a Secret's value and a bearer token printed in a
// crashed container's log never reach the report.
func TestDiagnoseRedaction(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	const value = "Pa55-w0rd-xyz-2024"
	_, err := e.Client.CoreV1().Secrets(e.Namespace).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db"}, StringData: map[string]string{"password": value},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.SetPodLogs(t, "leaky", nil, []string{"connecting with " + value, "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNpZ24", "db_password=" + value})
	e.createPod(t, "leaky", map[string]string{simLabel: "CrashLoopBackOff"}, podSpec(ctr("app", "busybox")))
	f, rep := e.waitRule(t, Options{Kinds: []string{"Pod"}}, RulePodCrashLoopBackOff, "leaky")
	if ok, why := logsWork(f.Evidence.Logs); !ok {
		t.Skip(why)
	}
	out, _ := json.Marshal(rep)
	for _, secret := range []string{value, "eyJhbGciOiJIUzI1NiJ9"} {
		if strings.Contains(string(out), secret) || strings.Contains(reportText(rep), secret) {
			t.Errorf("report contains %q:\n%s", secret, out)
		}
	}
	mustContain(t, "log", strings.Join(f.Evidence.Logs.Lines, "\n"), "connecting with "+redact.Redacted, "Bearer "+redact.Redacted)
}

func TestParseKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      []string
		want    string
		wantErr bool
	}{
		{nil, strings.Join(Kinds(), ","), false},
		{[]string{"Pod,svc"}, "Pod,Service", false},
		{[]string{"deployments", "po", "Deployment"}, "Pod,Deployment", false},
		{[]string{"pvc,hpa,helm"}, "PersistentVolumeClaim,HorizontalPodAutoscaler,HelmRelease", false},
		{[]string{"Podz"}, "", true},
	}
	for _, tc := range tests {
		got, err := ParseKinds(tc.in)
		if (err != nil) != tc.wantErr || (err == nil && strings.Join(got, ",") != tc.want) {
			t.Errorf("ParseKinds(%q) = %v, %v; want %s (err %t)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestDiagnoseMissingNamespace(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, err := e.d.Diagnose(context.Background(), Options{Namespace: e.Namespace + "-nope"})
	if !errors.Is(err, tools.ErrNotFound) {
		t.Errorf("error %v, want not found", err)
	}
}

func TestOptionsInvalid(t *testing.T) {
	t.Parallel()
	d := NewForClient(nil, nil, "")
	for _, o := range []Options{
		{},                                 // no namespace
		{Namespace: "Not_Valid"},           // bad namespace
		{Namespace: "a", Selector: "a in"}, // bad selector
		{Namespace: "a", Kinds: []string{"Podz"}},
	} {
		if _, err := d.Diagnose(context.Background(), o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("Diagnose(%+v) error = %v, want ErrInvalidOptions", o, err)
		}
	}
}

// TestScope checks which objects count as the user's: system namespaces only
// when named with -n, and the label selector.
func TestScope(t *testing.T) {
	t.Parallel()
	meta := func(ns string, l map[string]string) *metav1.ObjectMeta {
		return &metav1.ObjectMeta{Namespace: ns, Labels: l}
	}
	sel, _ := labels.Parse("app=web")
	tests := []struct {
		name  string
		scope scope
		meta  *metav1.ObjectMeta
		want  bool
	}{
		{"all namespaces skip kube-system", scope{}, meta("kube-system", nil), false},
		{"all namespaces skip kube-node-lease", scope{}, meta("kube-node-lease", nil), false},
		{"all namespaces keep user namespaces", scope{}, meta("todo", nil), true},
		{"-n kube-system keeps it", scope{namespace: "kube-system", includeSystem: true}, meta("kube-system", nil), true},
		{"other namespace", scope{namespace: "todo"}, meta("shop", nil), false},
		{"selector matches", scope{selector: sel}, meta("todo", map[string]string{"app": "web"}), true},
		{"selector does not match", scope{selector: sel}, meta("todo", map[string]string{"app": "db"}), false},
		{"cluster-scoped objects are not in a system namespace", scope{}, meta("", nil), true},
	}
	for _, tc := range tests {
		s := &Snapshot{scope: tc.scope}
		if got := s.inScope(tc.meta); got != tc.want {
			t.Errorf("%s: inScope = %t, want %t", tc.name, got, tc.want)
		}
	}
}

// TestGroupFoldCap checks grouping under the top owner, folding of identical
// pod findings, most-severe-first order and capping.
func TestGroupFoldCap(t *testing.T) {
	t.Parallel()
	deploy := ObjectRef{Kind: "Deployment", Namespace: "a", Name: "api", UID: "d"}
	rs := ObjectRef{Kind: "ReplicaSet", Namespace: "a", Name: "api-1", UID: "r"}
	pod := func(name string) Finding {
		return Finding{Rule: RulePodCrashLoopBackOff, Severity: Critical, Object: ObjectRef{Kind: "Pod", Namespace: "a", Name: name}, Owners: []ObjectRef{rs, deploy}, mergeKey: "app"}
	}
	svc := Finding{Rule: RuleServiceTargetPort, Severity: Warning, Object: ObjectRef{Kind: "Service", Namespace: "a", Name: "api"}}
	dep := Finding{Rule: RuleDeploymentUnavailable, Severity: Critical, Object: deploy}
	groups := groupFindings([]Finding{svc, pod("api-1-b"), pod("api-1-a"), dep}, true)
	if len(groups) != 2 || groups[0].Object != deploy || groups[1].Object.Kind != "Service" {
		t.Fatalf("groups = %+v", groups)
	}
	g := groups[0]
	if len(g.Findings) != 2 || g.Findings[0].Object != deploy || g.Findings[1].Object.Name != "api-1-a" || len(g.Findings[1].Similar) != 1 {
		t.Fatalf("deployment group = %+v", g.Findings)
	}
	if got := filterGroups(slices.Clone(groups), "api"); len(got) != 2 {
		t.Errorf("filterGroups(api) kept %d groups", len(got))
	}
	if got := filterGroups(slices.Clone(groups), "deployment/web"); len(got) != 0 {
		t.Errorf("filterGroups(web) kept %d groups", len(got))
	}
	r := &Report{Groups: groups}
	r.summarize()
	r.Cap(2)
	if r.Summary.Findings != 3 || r.Summary.Omitted != 1 || len(r.Groups) != 1 {
		t.Errorf("after Cap(2): summary %+v, %d groups", r.Summary, len(r.Groups))
	}
}

func TestTailLines(t *testing.T) {
	t.Parallel()
	lines, trunc := tailLines("a\n\nb\n"+strings.Repeat("x", 400)+"\nc\n", 3)
	if len(lines) != 3 || lines[0] != "b" || !trunc || !strings.HasSuffix(lines[1], "…") {
		t.Errorf("tailLines = %q, %t", lines, trunc)
	}
	_ = time.Second
}

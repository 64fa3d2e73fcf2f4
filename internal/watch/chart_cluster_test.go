package watch_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/charttest"
	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/watch"
)

// TestChartWatchServiceAccount installs charts/opsagent with watch enabled
// and checks its ServiceAccount against the watcher itself: acting with
// the ServiceAccount's token, a watch of every namespace fills every cache
// and samples usage without a refusal (enough), and the account may do
// nothing but read (no more).
func TestChartWatchServiceAccount(t *testing.T) {
	chart := charttest.Dir(t, "opsagent")
	charttest.Lint(t, chart, map[string]any{"watch": map[string]any{"enabled": true}})
	e := testcluster.New(t)
	// RBAC objects are privileged changes: the gate asks for the opt-in.
	release := "w" + e.Namespace[len(e.Namespace)-6:] // ClusterRoles are cluster-wide: one name per test namespace
	charttest.Install(t, e, chart, release, true, "watch.enabled=true")
	name := release + "-opsagent-watch"
	t.Cleanup(func() {
		// The ClusterRole and its binding outlive the namespace.
		_ = e.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = e.Client.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	d, err := e.Client.AppsV1().Deployments(e.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the watch Deployment: %v", err)
	}
	if sa := d.Spec.Template.Spec.ServiceAccountName; sa != name {
		t.Errorf("watch runs as %q, want %q", sa, name)
	}
	svc, err := e.Client.CoreV1().Services(e.Namespace).Get(t.Context(), release+"-opsagent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("the server's Service selects the watch pods (selector %v, pod labels %v)", svc.Spec.Selector, d.Spec.Template.Labels)
	}

	tr, err := e.Client.CoreV1().ServiceAccounts(e.Namespace).CreateToken(t.Context(), name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(e.RESTConfig)
	cfg.BearerToken = tr.Status.Token

	// Enough: a watch of the whole cluster as the ServiceAccount.
	m := watch.NewMetrics(nil)
	w, err := watch.New(cfg, "chart", watch.Options{
		Diagnose: diagnose.Options{AllNamespaces: true}, Metrics: m,
		Sample: &watch.SampleOptions{Interval: time.Hour, HistoryPath: filepath.Join(t.TempDir(), "h.json")},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	synced := make(chan watch.Event, 1)
	go func() {
		done <- w.Run(ctx, func(ev watch.Event) error {
			if ev.Type == watch.EventSynced {
				synced <- ev
			}
			return nil
		})
	}()
	select {
	case ev := <-synced:
		for _, ce := range ev.Sync.Errors {
			t.Errorf("the chart's ServiceAccount may not watch %s: %s", ce.Resource, ce.Message)
		}
	case err := <-done:
		t.Fatalf("watch as the chart's ServiceAccount stopped: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("watch as the chart's ServiceAccount did not sync within a minute")
	}
	// The first usage sample is taken at once after the sync.
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(m.Samples)+testutil.ToFloat64(m.SampleErrors) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(m.SampleErrors); n > 0 {
		t.Errorf("%v usage samplings failed as the chart's ServiceAccount (pod metrics not readable?)", n)
	}

	// No more: no verb but get, list and watch anywhere; no reads outside
	// what a diagnosis needs.
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []authorizationv1.ResourceAttributes{
		{Namespace: e.Namespace, Verb: "create", Resource: "pods"},
		{Namespace: e.Namespace, Verb: "delete", Resource: "pods"},
		{Namespace: e.Namespace, Verb: "get", Resource: "pods", Subresource: "log"},
		{Namespace: e.Namespace, Verb: "create", Resource: "pods", Subresource: "exec"},
		{Namespace: e.Namespace, Verb: "patch", Group: "apps", Resource: "deployments"},
		{Namespace: e.Namespace, Verb: "update", Group: "apps", Resource: "deployments", Subresource: "scale"},
		{Namespace: e.Namespace, Verb: "create", Resource: "serviceaccounts", Subresource: "token"},
		{Namespace: e.Namespace, Verb: "delete", Resource: "secrets"},
		{Verb: "patch", Resource: "nodes"},
		{Verb: "list", Resource: "namespaces"},
		{Verb: "impersonate", Resource: "users"},
		{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
		{Verb: "list", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	} {
		sar, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(t.Context(), &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &a},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed {
			t.Errorf("the watch ServiceAccount may %s %s/%s in %q: it must only read", a.Verb, a.Resource, a.Subresource, a.Namespace)
		}
	}
	rules, err := client.AuthorizationV1().SelfSubjectRulesReviews().Create(t.Context(), &authorizationv1.SelfSubjectRulesReview{
		Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: e.Namespace},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.Status.ResourceRules {
		for _, v := range r.Verbs {
			switch v {
			case "get", "list", "watch":
			case "create":
				// Self-reviews, granted to every authenticated user.
				if len(r.APIGroups) == 1 && (r.APIGroups[0] == "authorization.k8s.io" || r.APIGroups[0] == "authentication.k8s.io") {
					continue
				}
				t.Errorf("the watch ServiceAccount may %s %v/%v", v, r.APIGroups, r.Resources)
			default:
				t.Errorf("the watch ServiceAccount may %s %v/%v", v, r.APIGroups, r.Resources)
			}
		}
	}
}

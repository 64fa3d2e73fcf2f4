package server_test

import (
	"fmt"
	"slices"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/charttest"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// The in-cluster chart lints, installs the way `opsagent install opsagent
// charts/opsagent --yes` does (helm_deploy through the gate), runs the
// server locked down, and its ServiceAccount may do nothing at all.
func TestChartInstallsWithAPowerlessServiceAccount(t *testing.T) {
	t.Parallel()
	chart := charttest.Dir(t, "opsagent")
	charttest.Lint(t, chart, nil)
	e := testcluster.New(t)
	charttest.Install(t, e, chart, "opsagent", false, "ingress.enabled=true")

	d, err := e.Client.AppsV1().Deployments(e.Namespace).Get(t.Context(), "opsagent", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the chart's Deployment: %v", err)
	}
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	switch {
	case pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot:
		t.Error("the pod must run as non-root")
	case c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem:
		t.Error("the container's root filesystem must be read-only")
	case c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero():
		t.Error("the container needs CPU and memory limits")
	case !slices.Contains(c.Args, "--in-cluster") || pod.ServiceAccountName != "opsagent":
		t.Errorf("args %v, ServiceAccount %q: want serve --in-cluster as ServiceAccount opsagent", c.Args, pod.ServiceAccountName)
	}
	for _, get := range []func() error{
		func() error {
			_, err := e.Client.CoreV1().Services(e.Namespace).Get(t.Context(), "opsagent", metav1.GetOptions{})
			return err
		},
		func() error {
			_, err := e.Client.NetworkingV1().NetworkPolicies(e.Namespace).Get(t.Context(), "opsagent", metav1.GetOptions{})
			return err
		},
		func() error {
			_, err := e.Client.NetworkingV1().Ingresses(e.Namespace).Get(t.Context(), "opsagent", metav1.GetOptions{})
			return err
		},
	} {
		if err := get(); err != nil {
			t.Errorf("the chart's objects: %v", err)
		}
	}

	// The ServiceAccount may do nothing: every SubjectAccessReview is
	// denied, here and cluster-wide.
	user := "system:serviceaccount:" + e.Namespace + ":opsagent"
	for _, a := range []authorizationv1.ResourceAttributes{
		{Namespace: e.Namespace, Verb: "get", Resource: "pods"},
		{Namespace: e.Namespace, Verb: "list", Resource: "secrets"},
		{Namespace: e.Namespace, Verb: "patch", Group: "apps", Resource: "deployments"},
		{Namespace: e.Namespace, Verb: "update", Group: "apps", Resource: "deployments", Subresource: "scale"},
		{Namespace: e.Namespace, Verb: "create", Resource: "serviceaccounts", Subresource: "token"},
		{Verb: "list", Resource: "namespaces"},
		{Verb: "get", Resource: "nodes"},
		{Verb: "impersonate", Resource: "users"},
		{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
	} {
		sar, err := e.Client.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + e.Namespace, "system:authenticated"}, ResourceAttributes: &a},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed {
			t.Errorf("the chart's ServiceAccount may %s %s/%s in %q: it must have no rights", a.Verb, a.Resource, a.Subresource, a.Namespace)
		}
	}
	// And, as the ServiceAccount itself, its rules are exactly those of a
	// ServiceAccount granted nothing (the self-reviews and discovery every
	// authenticated user has).
	tr, err := e.Client.CoreV1().ServiceAccounts(e.Namespace).CreateToken(t.Context(), "opsagent", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	chartRules, nobodyRules := rulesOf(t, e, tr.Status.Token), rulesOf(t, e, e.CallerToken(t, "nobody"))
	if len(chartRules) != len(nobodyRules) {
		t.Errorf("the chart's ServiceAccount may do more than one granted nothing:\n got %v\nwant %v", chartRules, nobodyRules)
	}
	for i := range min(len(chartRules), len(nobodyRules)) {
		if chartRules[i] != nobodyRules[i] {
			t.Errorf("the chart's ServiceAccount rule %s, one granted nothing %s", chartRules[i], nobodyRules[i])
		}
	}
}

// rulesOf lists what token may do in the test namespace
// (SelfSubjectRulesReview), one sorted line per resource rule.
func rulesOf(t *testing.T, e *testcluster.Env, token string) []string {
	t.Helper()
	cfg := rest.AnonymousClientConfig(e.RESTConfig)
	cfg.BearerToken = token
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := c.AuthorizationV1().SelfSubjectRulesReviews().Create(t.Context(), &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: e.Namespace}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rev.Status.ResourceRules {
		out = append(out, fmt.Sprint(r.APIGroups, r.Resources, r.ResourceNames, r.Verbs))
	}
	slices.Sort(out)
	return out
}

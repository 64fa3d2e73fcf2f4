package kube_test

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// The clients act as the token's holder, never with the base config's
// admin credentials: RBAC of the caller decides.
func TestForBearerTokenActsAsTheCaller(t *testing.T) {
	t.Parallel()
	e := testcluster.New(t)
	ctx := context.Background()
	readPods := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}
	c, err := kube.ForBearerToken(e.RESTConfig, e.CallerToken(t, "reader", readPods), e.Namespace, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Typed.CoreV1().Pods(e.Namespace).List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("the caller may list pods in its namespace: %v", err)
	}
	if _, err := c.Typed.CoreV1().Secrets(e.Namespace).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("listing secrets must be forbidden for the caller (the base config is admin), got %v", err)
	}
	if _, err := c.Typed.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("pods of another namespace must be forbidden, got %v", err)
	}
	// Helm reads the namespace and the credentials from the getter.
	ns, _, err := c.Getter.ToRawKubeConfigLoader().Namespace()
	if err != nil || ns != e.Namespace {
		t.Fatalf("getter namespace = %q, %v; want %q", ns, err, e.Namespace)
	}
	rc, err := c.Getter.ToRESTConfig()
	if err != nil || rc.BearerToken == "" || rc.CertData != nil || rc.KeyData != nil || rc.CertFile != "" {
		t.Fatalf("getter config must carry the caller's token and no client certificate: %v", err)
	}
}

func TestForBearerTokenRejectsAnUnknownToken(t *testing.T) {
	t.Parallel()
	e := testcluster.New(t)
	c, err := kube.ForBearerToken(e.RESTConfig, "not-a-token", e.Namespace, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Typed.CoreV1().Pods(e.Namespace).List(context.Background(), metav1.ListOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Fatalf("an unknown token must be unauthorized, got %v", err)
	}
	if _, err := kube.ForBearerToken(e.RESTConfig, "", e.Namespace, nil); err == nil {
		t.Fatal("an empty token must be refused before any request")
	}
}

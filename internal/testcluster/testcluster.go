// Package testcluster gives each test its own namespace on a real
// kube-apiserver: the sandbox that `make test` started, named by
// OPSAGENT_TEST_KUBECONFIG, or else the default `opsagent sandbox`.
//
// When no cluster can be reached the test fails if CI is set (a silent skip
// would hide that nothing was tested) and is skipped with a hint otherwise.
package testcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/opsagent/opsagent/internal/sandbox"
)

// KubeconfigEnv names the kubeconfig of the cluster tests run against.
const KubeconfigEnv = "OPSAGENT_TEST_KUBECONFIG"

// TestLabel marks namespaces created by tests so leftovers can be found.
const TestLabel = "opsagent.dev/test"

// Env is one test's slice of the shared cluster.
type Env struct {
	// Kubeconfig is the path of the cluster's kubeconfig.
	Kubeconfig string
	RESTConfig *rest.Config
	Client     kubernetes.Interface
	// Namespace was created for this test and is deleted when it ends.
	Namespace string
}

type shared struct {
	kubeconfig string
	config     *rest.Config
	client     kubernetes.Interface
	err        error
}

var connect = sync.OnceValue(func() shared {
	path := os.Getenv(KubeconfigEnv)
	if path == "" {
		path = sandbox.KubeconfigPath(sandbox.DefaultName)
	}
	if _, err := os.Stat(path); err != nil {
		return shared{err: fmt.Errorf("no kubeconfig at %s (%v)", path, err)}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return shared{err: fmt.Errorf("load kubeconfig %s: %w", path, err)}
	}
	cfg.QPS, cfg.Burst = 100, 200
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return shared{err: err}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return shared{err: fmt.Errorf("cluster of %s is not reachable: %w", path, err)}
	}
	return shared{kubeconfig: path, config: cfg, client: client}
})

// Available reports whether a test cluster can be reached, and why not.
func Available() error { return connect().err }

// New connects to the test cluster and creates a fresh namespace for t,
// deleted in t.Cleanup.
func New(t testing.TB) *Env {
	t.Helper()
	s := connect()
	if s.err != nil {
		msg := fmt.Sprintf("test needs a Kubernetes cluster: %v. Run `make test`, or start one with `opsagent sandbox up` (or set %s)", s.err, KubeconfigEnv)
		SkipOrFail(t, msg)
	}
	ns := namespaceName(t.Name())
	ctx := context.Background()
	_, err := s.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{TestLabel: "true"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create test namespace %s: %v", ns, err)
	}
	t.Cleanup(func() {
		err := s.client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete test namespace %s: %v", ns, err)
		}
	})
	waitForServiceAccount(t, s.client, ns)
	return &Env{Kubeconfig: s.kubeconfig, RESTConfig: rest.CopyConfig(s.config), Client: s.client, Namespace: ns}
}

// Getter returns kubectl-style client options for the cluster, defaulting to
// the test's namespace — what commands and Helm take.
func (e *Env) Getter() genericclioptions.RESTClientGetter {
	f := genericclioptions.NewConfigFlags(true)
	f.KubeConfig = &e.Kubeconfig
	f.Namespace = &e.Namespace
	return f
}

// waitForServiceAccount waits for the namespace's default ServiceAccount:
// the API refuses pods created before it exists.
func waitForServiceAccount(t testing.TB, c kubernetes.Interface, ns string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.CoreV1().ServiceAccounts(ns).Get(context.Background(), "default", metav1.GetOptions{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s: default ServiceAccount did not appear within 30s: %v", ns, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9-]+`)

// namespaceName turns a test name into a unique, valid namespace name.
func namespaceName(testName string) string {
	base := unsafeChars.ReplaceAllString(strings.ToLower(testName), "-")
	base = strings.Trim(base, "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "t-" + base + "-" + hex.EncodeToString(b)
}

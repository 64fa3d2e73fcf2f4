package objecttools

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/toolstest"
)

// clusterEnv is one test's namespace on the test cluster, the clients the
// tools run with (defaulting to that namespace) and a gate over the tools
// whose --yes scope is that namespace.
type clusterEnv struct {
	*testcluster.Env
	c    *kube.Clients
	gate *tools.Gate
}

// newClusterEnv gives the test its own namespace and a gate that approves
// writes in it (--yes), but nothing destructive or privileged.
func newClusterEnv(t *testing.T) *clusterEnv {
	t.Helper()
	env := testcluster.New(t)
	c, err := kube.NewClients(env.Getter())
	if err != nil {
		t.Fatalf("clients: %v", err)
	}
	return &clusterEnv{Env: env, c: c, gate: &tools.Gate{
		Registry: tools.NewRegistry(New(c)...),
		Approver: &tools.Policy{AssumeYes: true},
		Scope:    tools.Scope{Namespace: env.Namespace},
	}}
}

// allow sets the gate's approval flags.
func (e *clusterEnv) allow(destructive, privileged bool) {
	e.gate.Approver = &tools.Policy{AssumeYes: true, AllowDestructive: destructive, AllowPrivileged: privileged}
}

func marshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// call runs a tool through the test's gate.
func (e *clusterEnv) call(t *testing.T, tool string, v any) *tools.Record {
	t.Helper()
	return toolstest.Call(t, e.gate, tool, v)
}

// mustCall runs a tool through the test's gate and fails the test if it fails.
func (e *clusterEnv) mustCall(t *testing.T, tool string, v any) *tools.Record {
	t.Helper()
	return toolstest.MustCall(t, e.gate, tool, v)
}

// prepare plans a call without the gate, to change the cluster between the
// preview and the run as a concurrent writer would.
func (e *clusterEnv) prepare(t *testing.T, tool string, v any) tools.Action {
	t.Helper()
	tl, err := e.gate.Registry.Lookup(tool)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tl.Prepare(t.Context(), marshal(t, v))
	if err != nil {
		t.Fatalf("prepare %s: %v", tool, err)
	}
	return a
}

// changedLines returns a unified diff's added and removed lines, without
// the file headers.
func changedLines(diff string) []string {
	var out []string
	for _, l := range strings.Split(diff, "\n") {
		if strings.HasPrefix(l, "+++ ") || strings.HasPrefix(l, "--- ") {
			continue
		}
		if strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
			out = append(out, l)
		}
	}
	return out
}

// deploymentYAML is a Deployment manifest whose pods select on app=<name>.
func deploymentYAML(name string, replicas int) string {
	return strings.NewReplacer("NAME", name, "REPLICAS", strconv.Itoa(replicas)).Replace(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
spec:
  replicas: REPLICAS
  selector:
    matchLabels:
      app: NAME
  template:
    metadata:
      labels:
        app: NAME
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: registry.example/web:1.0
`)
}

// waitDeployment waits until the deployment's rollout is done with want
// ready replicas, read directly from the API.
func (e *clusterEnv) waitDeployment(t *testing.T, name string, want int32) *appsv1.Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for {
		d, err := e.Client.AppsV1().Deployments(e.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil && d.Status.ObservedGeneration == d.Generation && d.Status.ReadyReplicas == want &&
			d.Status.UpdatedReplicas == want && d.Status.Replicas == want {
			return d
		}
		select {
		case <-ctx.Done():
			t.Fatalf("deployment %s did not get %d ready replicas in time (last: %v, %v)", name, want, d, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

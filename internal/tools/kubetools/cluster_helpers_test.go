package kubetools

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/toolstest"
)

// clusterEnv is one test's namespace on the test cluster, the clients the
// tools run with (defaulting to that namespace) and a gate over the tools.
type clusterEnv struct {
	*testcluster.Env
	c    *kube.Clients
	gate *tools.Gate
}

// newClusterEnv gives the test its own namespace and a gate that approves
// writes (--yes) in that namespace, but not destructive actions.
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

// prepare plans a tool call without the gate, for tests that change the
// cluster between the preview and the run.
func (e *clusterEnv) prepare(t *testing.T, tool string, v any) tools.Action {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := e.gate.Registry.Lookup(tool)
	if err != nil {
		t.Fatal(err)
	}
	action, err := tl.Prepare(t.Context(), raw)
	if err != nil {
		t.Fatalf("prepare %s %s: %v", tool, raw, err)
	}
	return action
}

// wantPreview checks a mutation's preview: its summary, effective risk and
// targets (the objects the gate judges the approval scope by).
func wantPreview(t *testing.T, rec *tools.Record, summary string, risk tools.Risk, targets ...tools.Target) {
	t.Helper()
	if rec.Preview == nil {
		t.Fatalf("%s: no preview (error %v)", rec.Tool, rec.Err())
	}
	if rec.Preview.Summary != summary {
		t.Errorf("%s preview summary\n got: %s\nwant: %s", rec.Tool, rec.Preview.Summary, summary)
	}
	if rec.Risk != risk {
		t.Errorf("%s risk = %s, want %s", rec.Tool, rec.Risk, risk)
	}
	if !slices.Equal(rec.Preview.Targets, targets) {
		t.Errorf("%s targets = %v, want %v", rec.Tool, rec.Preview.Targets, targets)
	}
}

// wantNoChange checks that a repeated call found nothing to do.
func wantNoChange(t *testing.T, rec *tools.Record) {
	t.Helper()
	if rec.Err() != nil || rec.Preview == nil || !rec.Preview.NoChange || !rec.NoChange {
		t.Errorf("%s repeated: preview %+v, error %v; want NoChange", rec.Tool, rec.Preview, rec.Err())
	}
}

// wantRefused checks that a call failed with target before changing
// anything: no approval was asked for.
func wantRefused(t *testing.T, rec *tools.Record, target error, says ...string) {
	t.Helper()
	err := rec.Err()
	if !errors.Is(err, target) {
		t.Errorf("%s %s: error = %v, want %v", rec.Tool, rec.Args, err, target)
		return
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s %s: error %q does not say %q", rec.Tool, rec.Args, err, s)
		}
	}
	if rec.Approved {
		t.Errorf("%s %s: approved although refused", rec.Tool, rec.Args)
	}
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

type deploySpec struct {
	name     string
	labels   map[string]string
	replicas int32
	image    string
	// containers, if set, replaces the single "app" container.
	containers []corev1.Container
	env        []corev1.EnvVar
	// podLabels are added to the pod template only (a sim.opsagent.dev/state
	// label makes the pods fail).
	podLabels map[string]string
	// noWait returns without waiting for ready pods.
	noWait bool
}

// createDeployment creates a Deployment whose pods select on app=<name>
// plus the given labels, and waits until its pods are ready.
func (e *clusterEnv) createDeployment(t *testing.T, s deploySpec) *appsv1.Deployment {
	t.Helper()
	if s.image == "" {
		s.image = "registry.example/web:1.0"
	}
	labels := map[string]string{"app": s.name}
	for k, v := range s.labels {
		labels[k] = v
	}
	containers := s.containers
	if containers == nil {
		containers = []corev1.Container{{Name: "app", Image: s.image, Env: s.env}}
	}
	podLabels := maps.Clone(labels)
	maps.Copy(podLabels, s.podLabels)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(s.replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": s.name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec:       corev1.PodSpec{Containers: containers, TerminationGracePeriodSeconds: ptr.To[int64](0)},
			},
		},
	}
	d, err := e.Client.AppsV1().Deployments(e.Namespace).Create(t.Context(), d, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create deployment %s: %v", s.name, err)
	}
	if !s.noWait {
		e.waitDeployment(t, s.name, s.replicas)
	}
	return d
}

// waitDeployment waits until the deployment's rollout is done with want
// ready replicas, checked directly against the API (not through the tools).
func (e *clusterEnv) waitDeployment(t *testing.T, name string, want int32) *appsv1.Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var last string
	for {
		d, err := e.Client.AppsV1().Deployments(e.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			p := deploymentProgress(d)
			if p.Done && d.Status.ReadyReplicas == want {
				return d
			}
			last = p.Message
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("deployment %s did not get %d ready replicas in time: %s", name, want, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (e *clusterEnv) getDeployment(t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	d, err := e.Client.AppsV1().Deployments(e.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment %s: %v", name, err)
	}
	return d
}

// objectClient is what a typed client of one kind offers the tests that
// change an object behind a tool's back: read it, write it, write its status.
type objectClient[T any] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	UpdateStatus(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// updateObject changes an object's metadata or spec as someone else would
// between a preview and its run. A controller writing the object's status
// at the same moment is retried, so it fails only if the change cannot be
// made.
func updateObject[T any](t *testing.T, client objectClient[T], name string, change func(T)) {
	t.Helper()
	if err := changeObject(t, client.Get, client.Update, name, change); err != nil {
		t.Fatalf("update %s: %v", name, err)
	}
}

// touchObjectStatus changes only an object's status, as its controller
// does: the resourceVersion moves, the generation and spec stay.
func touchObjectStatus[T metav1.Object](t *testing.T, client objectClient[T], name string, touch func(T)) {
	t.Helper()
	get := func() metav1.Object {
		obj, err := client.Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		return obj
	}
	before := get()
	if err := changeObject(t, client.Get, client.UpdateStatus, name, touch); err != nil {
		t.Fatalf("update status of %s: %v", name, err)
	}
	after := get()
	if after.GetResourceVersion() == before.GetResourceVersion() || after.GetGeneration() != before.GetGeneration() {
		t.Fatalf("status update of %s: resourceVersion %s → %s, generation %d → %d; want a new resourceVersion, the same generation",
			name, before.GetResourceVersion(), after.GetResourceVersion(), before.GetGeneration(), after.GetGeneration())
	}
}

// changeObject reads the object, changes it and writes it, again on a
// conflict.
func changeObject[T any](t *testing.T, get func(context.Context, string, metav1.GetOptions) (T, error),
	write func(context.Context, T, metav1.UpdateOptions) (T, error), name string, change func(T)) error {
	t.Helper()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		change(obj)
		_, err = write(t.Context(), obj, metav1.UpdateOptions{})
		return err
	})
}

// updateDeployment changes a deployment's metadata or spec as someone else
// would between a preview and its run.
func (e *clusterEnv) updateDeployment(t *testing.T, name string, change func(*appsv1.Deployment)) {
	t.Helper()
	updateObject(t, e.Client.AppsV1().Deployments(e.Namespace), name, change)
}

// touchStatus changes only a deployment's status, as its controller does
// during a rollout.
func (e *clusterEnv) touchStatus(t *testing.T, name string) {
	t.Helper()
	touchObjectStatus(t, e.Client.AppsV1().Deployments(e.Namespace), name, func(d *appsv1.Deployment) {
		now := metav1.Now()
		d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{
			Type: touchedCondition, Status: corev1.ConditionTrue, Reason: "StatusOnly",
			LastUpdateTime: now, LastTransitionTime: now,
		})
	})
}

// touchedCondition is the status condition the tests add to change only an
// object's status.
const touchedCondition = "opsagent.dev/Touched"

// resultAs reads a record's result as the model sees it.
func resultAs[T any](t *testing.T, rec *tools.Record) T {
	t.Helper()
	return toolstest.ResultAs[T](t, rec)
}

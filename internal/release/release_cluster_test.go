package release

// These tests drive real releases on the sandbox cluster (kube-apiserver with
// kwok nodes: pods turn Running and Ready without containers, and the label
// sim.opsagent.dev/state=ImagePullBackOff makes a pod fail its image pull).
// Each test owns a fresh namespace; testcluster skips them when no cluster
// is reachable (and fails them under CI).

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/testcluster"
)

const (
	clusterTimeout = 3 * time.Minute
	backendName    = "todo-chatbot-backend"
	pvcName        = "todo-chatbot-postgresql"
	secretName     = "todo-chatbot-secret"
)

// newClusterClient returns a Client for a fresh test namespace.
func newClusterClient(t *testing.T) (*Client, *testcluster.Env, context.Context) {
	t.Helper()
	env := testcluster.New(t)
	c, err := New(env.Getter(), env.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	t.Cleanup(cancel)
	return c, env, ctx
}

func deployOrFail(t *testing.T, ctx context.Context, c *Client, opts DeployOptions) *DeployResult {
	t.Helper()
	res, err := c.Deploy(ctx, opts)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	return res
}

// waitOpts waits for readiness, as a user deploying for real would.
func waitOpts(set ...string) DeployOptions {
	return DeployOptions{Wait: true, Timeout: 2 * time.Minute, Values: Values{Set: set}}
}

func jwtSecret(t *testing.T, ctx context.Context, env *testcluster.Env) string {
	t.Helper()
	s, err := env.Client.CoreV1().Secrets(env.Namespace).Get(ctx, secretName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get chart Secret: %v", err)
	}
	if len(s.Data["JWT_SECRET"]) != 64 {
		t.Fatalf("JWT_SECRET has %d bytes, want 64", len(s.Data["JWT_SECRET"]))
	}
	return string(s.Data["JWT_SECRET"])
}

func TestClusterInstallReachesRunning(t *testing.T) {
	t.Parallel()
	c, env, ctx := newClusterClient(t)

	p, err := c.Preview(ctx, PreviewOptions{})
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	if p.Action != ActionInstall || p.Count(OpCreate) != 12 {
		t.Errorf("preview of a new release:\n%s", p)
	}

	res := deployOrFail(t, ctx, c, waitOpts())
	if res.Action != ActionInstall || res.Release.Status != "deployed" || res.Release.Revision != 1 {
		t.Fatalf("install = %+v", res.Release)
	}

	pods, err := env.Client.CoreV1().Pods(env.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=todo-chatbot"})
	if err != nil {
		t.Fatal(err)
	}
	components := map[string]bool{}
	for _, pod := range pods.Items {
		if pod.Status.Phase != corev1.PodRunning || !podReady(pod) {
			t.Errorf("pod %s is %s (ready=%v)", pod.Name, pod.Status.Phase, podReady(pod))
		}
		components[pod.Labels["app.kubernetes.io/component"]] = true
	}
	for _, want := range []string{"frontend", "backend", "database"} {
		if !components[want] {
			t.Errorf("no running %s pod among %d pods", want, len(pods.Items))
		}
	}

	pvc, err := env.Client.CoreV1().PersistentVolumeClaims(env.Namespace).Get(ctx, pvcName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "standard" || pvc.Status.Phase != corev1.ClaimBound {
		t.Errorf("PVC class %v phase %s, want standard and Bound", pvc.Spec.StorageClassName, pvc.Status.Phase)
	}

	st, err := c.Status(ctx, "")
	if err != nil || st.Status != "deployed" {
		t.Errorf("status = %+v, %v", st, err)
	}
	rels, err := c.List(ctx, ListOptions{})
	if err != nil || len(rels) != 1 || rels[0].Namespace != env.Namespace {
		t.Errorf("list = %+v, %v", rels, err)
	}
}

func TestClusterUpgradePreviewAndRollback(t *testing.T) {
	t.Parallel()
	c, env, ctx := newClusterClient(t)
	deployOrFail(t, ctx, c, waitOpts())
	jwt := jwtSecret(t, ctx, env)

	// The server-side dry run sees the live Secret through lookup, so the
	// generated credentials do not show up as changes.
	p, err := c.Preview(ctx, PreviewOptions{Values: Values{Set: []string{"backend.replicaCount=2"}}})
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	var changed []string
	for _, ch := range p.Changes {
		changed = append(changed, string(ch.Op)+" "+ch.String())
	}
	if !slices.Equal(changed, []string{"update Deployment/" + backendName}) {
		t.Errorf("preview changes = %v, want only the backend Deployment:\n%s", changed, p)
	}
	if p.CurrentRevision != 1 || p.NextRevision != 2 {
		t.Errorf("preview revisions %d→%d", p.CurrentRevision, p.NextRevision)
	}

	up := deployOrFail(t, ctx, c, waitOpts("backend.replicaCount=2"))
	if up.Action != ActionUpgrade || up.Release.Revision != 2 {
		t.Fatalf("upgrade = %s revision %d", up.Action, up.Release.Revision)
	}
	if got := replicas(t, ctx, env, backendName); got != 2 {
		t.Errorf("backend replicas after upgrade = %d, want 2", got)
	}
	if jwtSecret(t, ctx, env) != jwt {
		t.Errorf("the upgrade changed the generated JWT secret")
	}

	rb, err := c.Rollback(ctx, "", RollbackOptions{Wait: true, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if rb.FromRevision != 2 || rb.ToRevision != 1 || rb.Release.Revision != 3 {
		t.Errorf("rollback = %+v", rb)
	}
	if got := replicas(t, ctx, env, backendName); got != 1 {
		t.Errorf("backend replicas after rollback = %d, want 1", got)
	}
	if jwtSecret(t, ctx, env) != jwt {
		t.Errorf("the rollback changed the generated JWT secret")
	}
}

func TestClusterUninstallKeepsData(t *testing.T) {
	t.Parallel()
	c, env, ctx := newClusterClient(t)
	deployOrFail(t, ctx, c, waitOpts())
	jwt := jwtSecret(t, ctx, env)
	pvc, err := env.Client.CoreV1().PersistentVolumeClaims(env.Namespace).Get(ctx, pvcName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	res, err := c.Uninstall(ctx, "", UninstallOptions{Wait: true, Timeout: time.Minute})
	if err != nil {
		t.Fatalf("uninstall: %v", err)
	}
	var kept []string
	for _, k := range res.Kept {
		kept = append(kept, k.String())
	}
	if !slices.Equal(kept, []string{"Secret/" + secretName, "PersistentVolumeClaim/" + pvcName}) {
		t.Errorf("kept = %v", kept)
	}

	if _, err := env.Client.AppsV1().Deployments(env.Namespace).Get(ctx, backendName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("backend Deployment still there after uninstall: %v", err)
	}
	after, err := env.Client.CoreV1().PersistentVolumeClaims(env.Namespace).Get(ctx, pvcName, metav1.GetOptions{})
	if err != nil || after.UID != pvc.UID || after.DeletionTimestamp != nil {
		t.Fatalf("the PVC did not survive the uninstall: %v", err)
	}
	if _, err := c.Status(ctx, ""); !errors.Is(err, ErrReleaseNotFound) {
		t.Errorf("status after uninstall: %v", err)
	}

	// A reinstall adopts the kept claim and Secret: same volume, same
	// credentials, so the data stays readable.
	deployOrFail(t, ctx, c, waitOpts())
	again, err := env.Client.CoreV1().PersistentVolumeClaims(env.Namespace).Get(ctx, pvcName, metav1.GetOptions{})
	if err != nil || again.UID != pvc.UID {
		t.Errorf("reinstall did not reuse the kept PVC: %v", err)
	}
	if jwtSecret(t, ctx, env) != jwt {
		t.Errorf("reinstall generated new credentials instead of reusing the kept ones")
	}
}

func TestClusterAtomicUpgradeRollsBack(t *testing.T) {
	t.Parallel()
	c, env, ctx := newClusterClient(t)
	deployOrFail(t, ctx, c, waitOpts())

	// kwok reports an image pull failure for pods with this label, so the
	// new backend pods never turn ready and the wait times out.
	_, err := c.Deploy(ctx, DeployOptions{
		Atomic:  true,
		Timeout: 20 * time.Second,
		Values:  Values{Set: []string{`backend.podLabels.sim\.opsagent\.dev/state=ImagePullBackOff`}},
	})
	if !errors.Is(err, ErrRolledBack) {
		t.Fatalf("atomic upgrade with failing pods: err = %v, want ErrRolledBack", err)
	}

	hist, err := c.History(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(hist); !slices.Equal(got, []string{"1:superseded", "2:failed", "3:deployed"}) {
		t.Errorf("history = %v", got)
	}
	d, err := env.Client.AppsV1().Deployments(env.Namespace).Get(ctx, backendName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Spec.Template.Labels["sim.opsagent.dev/state"]; ok {
		t.Errorf("the failed revision's pod template is still live after the rollback")
	}
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func replicas(t *testing.T, ctx context.Context, env *testcluster.Env, name string) int32 {
	t.Helper()
	d, err := env.Client.AppsV1().Deployments(env.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return *d.Spec.Replicas
}

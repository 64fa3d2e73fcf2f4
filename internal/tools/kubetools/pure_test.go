package kubetools

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestPodSummary(t *testing.T) {
	t.Parallel()
	ago := metav1.NewTime(time.Now().Add(-10 * time.Minute))
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago}}
	tests := []struct {
		name         string
		pod          corev1.Pod
		wantStatus   string
		wantReady    string
		wantRestarts string
	}{
		{
			name: "running and ready",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{Name: "app", Ready: true, State: running},
				}},
			},
			wantStatus: "Running", wantReady: "1/1", wantRestarts: "0",
		},
		{
			name: "crash loop with restarts",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}, {Name: "side"}}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{Name: "app", RestartCount: 5,
						State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
						LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: ago}}},
					{Name: "side", Ready: true, State: running},
				}},
			},
			wantStatus: "CrashLoopBackOff", wantReady: "1/2", wantRestarts: "5 (10m ago)",
		},
		{
			name: "init container waiting",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "migrate"}}, Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "migrate", State: running},
				}},
			},
			wantStatus: "Init:0/1", wantReady: "0/1", wantRestarts: "0",
		},
		{
			name: "image pull",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{
					{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}},
				}},
			},
			wantStatus: "ImagePullBackOff", wantReady: "0/1", wantRestarts: "0",
		},
		{
			name: "oom killed without reason uses exit code",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137}}},
				}},
			},
			wantStatus: "ExitCode:137", wantReady: "0/1", wantRestarts: "0",
		},
		{
			name: "terminating",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &ago},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status:     corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: running}}},
			},
			wantStatus: "Terminating", wantReady: "1/1", wantRestarts: "0",
		},
		{
			name: "evicted",
			pod: corev1.Pod{
				Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"},
			},
			wantStatus: "Evicted", wantReady: "0/1", wantRestarts: "0",
		},
	}
	for _, tt := range tests {
		// Not parallel: a parallel subtest may wait minutes for a slot
		// behind the cluster tests, and "10m ago" would then read "12m ago".
		t.Run(tt.name, func(t *testing.T) {
			r := podRow(&tt.pod)
			if r.Status != tt.wantStatus || r.Ready != tt.wantReady || r.Restarts != tt.wantRestarts {
				t.Errorf("podRow = status %q ready %q restarts %q; want %q %q %q", r.Status, r.Ready, r.Restarts, tt.wantStatus, tt.wantReady, tt.wantRestarts)
			}
		})
	}
}

func TestDeploymentProgress(t *testing.T) {
	t.Parallel()
	dep := func(gen, observed int64, replicas int32, st appsv1.DeploymentStatus) *appsv1.Deployment {
		st.ObservedGeneration = observed
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: gen}, Spec: appsv1.DeploymentSpec{Replicas: &replicas}, Status: st}
	}
	tests := []struct {
		name     string
		d        *appsv1.Deployment
		done     bool
		deadline bool
		msg      string
	}{
		{"not observed", dep(2, 1, 3, appsv1.DeploymentStatus{}), false, false, "observe the new spec"},
		{"updating", dep(2, 2, 3, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1}), false, false, "1 of 3 new replicas updated"},
		{"old pending", dep(2, 2, 3, appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3}), false, false, "1 old replicas pending termination"},
		{"unavailable", dep(2, 2, 3, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2}), false, false, "2 of 3 updated replicas available"},
		{"done", dep(2, 2, 3, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3, ReadyReplicas: 3}), true, false, "successfully rolled out"},
		{"deadline", dep(2, 2, 3, appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "x" has timed out progressing.`},
		}}), false, true, "progress deadline exceeded"},
		{"scaled to zero", dep(3, 3, 0, appsv1.DeploymentStatus{}), true, false, "successfully rolled out"},
	}
	for _, tt := range tests {
		p := deploymentProgress(tt.d)
		if p.Done != tt.done || p.DeadlineExceeded != tt.deadline || !strings.Contains(p.Message, tt.msg) {
			t.Errorf("%s: progress = %+v, want done=%v deadline=%v message containing %q", tt.name, p, tt.done, tt.deadline, tt.msg)
		}
	}
}

func TestKeepTail(t *testing.T) {
	t.Parallel()
	in := []byte(strings.Repeat("0123456789\n", 100)) // 1100 bytes
	got, cut := keepTail(in, 105)
	if !cut || len(got) > 105 || !strings.HasPrefix(got, "0123456789\n") || !strings.HasSuffix(got, "9\n") {
		t.Errorf("keepTail = %q (cut %v), want whole newest lines within 105 bytes", got, cut)
	}
	if got, cut := keepTail([]byte("short\n"), 100); cut || got != "short\n" {
		t.Errorf("keepTail(short) = %q, %v", got, cut)
	}
}

func TestPickContainer(t *testing.T) {
	t.Parallel()
	pod := func(annotations map[string]string, names ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Annotations: annotations}}
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n})
		}
		return p
	}
	tests := []struct {
		name    string
		pod     *corev1.Pod
		want    string
		asked   string
		wantErr error
	}{
		{name: "only one", pod: pod(nil, "app"), want: "app"},
		{name: "asked", pod: pod(nil, "app", "proxy"), asked: "proxy", want: "proxy"},
		{name: "default annotation", pod: pod(map[string]string{"kubectl.kubernetes.io/default-container": "app"}, "proxy", "app"), want: "app"},
		{name: "ambiguous", pod: pod(nil, "app", "proxy"), wantErr: tools.ErrAmbiguous},
		{name: "unknown", pod: pod(nil, "app"), asked: "db", wantErr: tools.ErrNotFound},
	}
	for _, tt := range tests {
		got, err := pickContainer(tt.pod, tt.asked)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "app") {
				t.Errorf("%s: error = %v, want %v listing the containers", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: pickContainer = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// TestSecretsNeverShown covers the two ways a secret value could reach a
// description: the Secret itself and env vars that reference it.
func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	const value = "hunter2-very-secret"
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"password":"` + value + `"}}`}},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"password": []byte(value), "user": []byte("admin")},
		StringData: map[string]string{"token": value},
	}
	out, _ := json.Marshal(describeSecret(s))
	if strings.Contains(string(out), value) || strings.Contains(string(out), "admin") {
		t.Fatalf("secret description leaks data: %s", out)
	}
	if !strings.Contains(string(out), `"key":"password","bytes":19`) {
		t.Errorf("secret description lacks key sizes: %s", out)
	}
	env := envStrings([]corev1.EnvVar{
		{Name: "PLAIN", Value: "x"},
		{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}},
	})
	if want := []string{"PLAIN=x", "DB_PASSWORD from secretKeyRef db/password"}; strings.Join(env, "|") != strings.Join(want, "|") {
		t.Errorf("envStrings = %q, want %q", env, want)
	}
	if a := visibleAnnotations(s.Annotations); a != nil {
		t.Errorf("last-applied-configuration not hidden: %v", a)
	}
}

func TestPickRevision(t *testing.T) {
	t.Parallel()
	ref := workloadRef{Kind: kindDeployment, Name: "web", Namespace: "ns"}
	h := map[int64]*appsv1.ReplicaSet{1: {}, 2: {}, 4: {}}
	tests := []struct {
		name             string
		history          map[int64]*appsv1.ReplicaSet
		current, want    int64
		wantRev          int64
		wantErrSubstring string
	}{
		{name: "previous", history: h, current: 4, wantRev: 2},
		{name: "explicit", history: h, current: 4, want: 1, wantRev: 1},
		{name: "missing", history: h, current: 4, want: 3, wantErrSubstring: "has no revision 3; its revisions are 1, 2, 4"},
		{name: "only one", history: map[int64]*appsv1.ReplicaSet{1: {}}, current: 1, wantErrSubstring: "no previous revision"},
	}
	for _, tt := range tests {
		got, err := pickRevision(ref, tt.history, tt.current, tt.want)
		if tt.wantErrSubstring != "" {
			if !errors.Is(err, tools.ErrNotFound) || !strings.Contains(err.Error(), tt.wantErrSubstring) {
				t.Errorf("%s: error = %v, want ErrNotFound containing %q", tt.name, err, tt.wantErrSubstring)
			}
			continue
		}
		if err != nil || got != tt.wantRev {
			t.Errorf("%s: pickRevision = %d, %v; want %d", tt.name, got, err, tt.wantRev)
		}
	}
}

func TestRollbackHelpers(t *testing.T) {
	t.Parallel()
	from := &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "web:2"}, {Name: "proxy", Image: "envoy:1"}}}
	to := &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "web:1"}, {Name: "proxy", Image: "envoy:1"}}}
	if got := imageChanges(from, to); len(got) != 1 || got[0] != "container app: image web:2 → web:1" {
		t.Errorf("imageChanges = %q", got)
	}
	got := rollbackAnnotations(
		map[string]string{revisionAnnotation: "4", "team": "a"},
		map[string]string{revisionAnnotation: "2", "kubernetes.io/change-cause": "v1"},
	)
	want := map[string]string{revisionAnnotation: "4", "kubernetes.io/change-cause": "v1"}
	if len(got) != len(want) || got[revisionAnnotation] != "4" || got["kubernetes.io/change-cause"] != "v1" {
		t.Errorf("rollbackAnnotations = %v, want %v", got, want)
	}
}

func TestRestartPatch(t *testing.T) {
	t.Parallel()
	b, err := restartPatch("42", "2030-01-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"resourceVersion":"42"},"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2030-01-01T00:00:00Z"}}}}}`
	if string(b) != want {
		t.Errorf("restartPatch = %s, want %s", b, want)
	}
}

func TestSortForTroubleshooting(t *testing.T) {
	t.Parallel()
	mk := func(name, node string, ready bool, restarts int32) corev1.Pod {
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		return corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app"}}},
			Status: corev1.PodStatus{
				Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: st}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: restarts}},
			},
		}
	}
	pods := []corev1.Pod{mk("pending", "", false, 0), mk("healthy", "n", true, 0), mk("flaky", "n", false, 1), mk("crashing", "n", false, 9)}
	sortForTroubleshooting(pods)
	if got := strings.Join(podNames(pods), ","); got != "crashing,flaky,healthy,pending" {
		t.Errorf("order = %s", got)
	}
}

package diagnose

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/opsagent/opsagent/internal/tools"
)

// TestExplainDeployment rolls a Deployment from a working image to a missing
// one and checks that explain shows both revisions with their images, the
// config references, the failing pod with its events, and offers the
// rollback to the working revision.
func TestExplainDeployment(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	_, err := e.Client.CoreV1().Secrets(e.Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "web-secret"}, StringData: map[string]string{"token": "tok-value-123456"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := ctr("web", "nginx:1.25")
	c.Env = []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "web-secret"}, Key: "token"}}}}
	e.createDeployment(t, deploymentObj("todo-web", 1, nil, podSpec(c)))
	e.waitDeploymentAvailable(t, "todo-web")
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := e.Client.AppsV1().Deployments(e.Namespace).Get(ctx, "todo-web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Labels[simLabel] = "ImagePullBackOff"
		d.Spec.Template.Spec.Containers[0].Image = "nginx:9.99-missing"
		_, err = e.Client.AppsV1().Deployments(e.Namespace).Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.waitRule(t, Options{Kinds: []string{"Pod"}}, RulePodImagePullError, "todo-web-")

	rep, err := e.d.Explain(ctx, ExplainOptions{Namespace: e.Namespace, Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Target.Kind != "Deployment" || rep.Target.Name != "todo-web" || rep.Healthy {
		t.Fatalf("target %s healthy=%t, want the failing Deployment todo-web", rep.Target, rep.Healthy)
	}
	if len(rep.Rollout) != 2 || rep.Rollout[0].Revision != 2 || !rep.Rollout[0].Current ||
		rep.Rollout[0].Images[0] != "web=nginx:9.99-missing" || rep.Rollout[1].Images[0] != "web=nginx:1.25" {
		t.Errorf("rollout = %+v, want revision 2 (nginx:9.99-missing) then 1 (nginx:1.25)", rep.Rollout)
	}
	if len(rep.Config) != 1 || rep.Config[0].Name != "web-secret" || rep.Config[0].Status != RefFound {
		t.Errorf("config = %+v, want web-secret found", rep.Config)
	}
	var pull *Finding
	for i := range rep.Findings {
		if rep.Findings[i].Rule == RulePodImagePullError {
			pull = &rep.Findings[i]
		}
	}
	if pull == nil {
		t.Fatalf("no image pull finding: %+v", rep.Findings)
	}
	if !hasFix(*pull, "kubectl rollout undo deployment/todo-web -n "+e.Namespace+" --to-revision=1") {
		t.Errorf("no rollback to revision 1: %+v", pull.Fixes)
	}
	if rep.Cause == "" || len(rep.Fixes) == 0 || len(rep.Pods) != 2 || !strings.Contains(rep.Pods[0].Containers[0].State, "ImagePull") {
		t.Errorf("cause %q, fixes %d, pods %+v: want the failing pod first", rep.Cause, len(rep.Fixes), rep.Pods)
	}
	if !hasEvent(rep.Events, "Failed") || !hasEvent(rep.Events, "ScalingReplicaSet") {
		t.Errorf("events lack the pull failure or the rollout: %+v", rep.Events)
	}
	if strings.Contains(strings.Join(rep.Status, " "), "tok-value-123456") {
		t.Error("a Secret value leaked")
	}

	// The same pod explained on its own.
	pod, err := e.d.Explain(ctx, ExplainOptions{Namespace: e.Namespace, Name: pull.Object.Name, Kind: "pod"})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Target.Kind != "Pod" || len(pod.Owners) != 2 || pod.Owners[1].Name != "todo-web" || len(pod.Rollout) != 2 {
		t.Errorf("pod explain: target %s owners %+v rollout %d", pod.Target, pod.Owners, len(pod.Rollout))
	}
}

func hasEvent(evs []Event, reason string) bool {
	for _, e := range evs {
		if e.Reason == reason {
			return true
		}
	}
	return false
}

func TestExplainResolve(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createDeployment(t, deploymentObj("shop-web", 1, nil, podSpec(ctr("web", "nginx"))))
	e.createDeployment(t, deploymentObj("blog-web", 1, nil, podSpec(ctr("web", "nginx"))))
	e.createDeployment(t, deploymentObj("db", 1, nil, podSpec(ctr("db", "postgres"))))
	e.waitDeploymentAvailable(t, "db")
	tests := []struct {
		name, kind string
		want       string
		wantErr    error
	}{
		{name: "db", want: "Deployment/db"},
		{name: "deploy/shop-web", want: "Deployment/shop-web"},
		{name: "shop", want: "Deployment/shop-web"},
		{name: "web", wantErr: tools.ErrAmbiguous},
		{name: "cache", wantErr: tools.ErrNotFound},
		{name: "db", kind: "statefulset", wantErr: tools.ErrNotFound},
		{name: "db", kind: "service", wantErr: tools.ErrInvalidArgs},
	}
	for _, tc := range tests {
		rep, err := e.d.Explain(context.Background(), ExplainOptions{Namespace: e.Namespace, Name: tc.name, Kind: tc.kind})
		switch {
		case tc.wantErr != nil:
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("explain %s (%s): error %v, want %v", tc.name, tc.kind, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("explain %s: %v", tc.name, err)
		case rep.Target.Kind+"/"+rep.Target.Name != tc.want || !rep.Healthy:
			t.Errorf("explain %s = %s healthy=%t, want %s healthy", tc.name, rep.Target, rep.Healthy, tc.want)
		}
	}
	_, err := e.d.Explain(context.Background(), ExplainOptions{Namespace: e.Namespace, Name: "cache"})
	mustContain(t, "not found error", err.Error(), "deployment/blog-web", "deployment/db")
}

func TestExplainFailing(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.SetPodLogs(t, "crash", nil, []string{"panic: nil map"})
	e.createPod(t, "crash", map[string]string{simLabel: "CrashLoopBackOff"}, podSpec(ctr("app", "busybox")))
	e.createPod(t, "fine", nil, podSpec(ctr("app", "busybox")))
	e.waitRule(t, Options{Kinds: []string{"Pod"}}, RulePodCrashLoopBackOff, "crash")
	list, err := e.d.ExplainFailing(context.Background(), ExplainOptions{Namespace: e.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Target.Name != "crash" || list.Healthy {
		t.Fatalf("items = %+v, want only pod crash", list.Items)
	}
	item := list.Items[0]
	if len(item.Logs) == 1 {
		if ok, why := logsWork(&item.Logs[0]); ok {
			mustContain(t, "logs", strings.Join(item.Logs[0].Lines, "\n"), "panic: nil map")
		} else {
			t.Log(why)
		}
	} else {
		t.Errorf("logs = %+v, want the crashed container's", item.Logs)
	}
}

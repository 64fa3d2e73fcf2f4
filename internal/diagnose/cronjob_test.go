package diagnose

import (
	"context"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCronJobAnalyzer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		suspend  bool
		failRun  bool
		rule     string
		severity Severity
		want     []string
		wantFix  string
	}{
		{name: "suspended", suspend: true, rule: RuleCronJobSuspended, severity: Warning,
			want: []string{"is suspended", "spec.suspend: true"}, wantFix: `'{"spec":{"suspend":false}}'`},
		{name: "last run failed", failRun: true, rule: RuleCronJobLastRunFailed, severity: Critical,
			want: []string{"its last run, job backup-manual, failed (BackoffLimitExceeded)"}, wantFix: "kubectl create job backup-manual"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			ctx := context.Background()
			cj := &batchv1.CronJob{
				ObjectMeta: metav1.ObjectMeta{Name: "backup"},
				Spec: batchv1.CronJobSpec{
					Schedule: "0 3 * * *", Suspend: &tc.suspend,
					JobTemplate: batchv1.JobTemplateSpec{Spec: jobSpec(map[string]string{simLabel: "Error"})},
				},
			}
			cj, err := e.Client.BatchV1().CronJobs(e.Namespace).Create(ctx, cj, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.failRun {
				// What `kubectl create job backup-manual --from=cronjob/backup` does.
				job := &batchv1.Job{
					ObjectMeta: metav1.ObjectMeta{Name: "backup-manual", OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))}},
					Spec:       cj.Spec.JobTemplate.Spec,
				}
				if _, err := e.Client.BatchV1().Jobs(e.Namespace).Create(ctx, job, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			f, rep := e.waitRule(t, Options{Kinds: []string{"CronJob", "Job", "Pod"}}, tc.rule, "backup", tc.want...)
			if f.Severity != tc.severity {
				t.Errorf("severity = %s, want %s", f.Severity, tc.severity)
			}
			mustContain(t, "finding", allText(f), tc.want...)
			if !hasFix(f, tc.wantFix) {
				t.Errorf("no fix with %q: %+v", tc.wantFix, f.Fixes)
			}
			if _, dup := findingFor(rep, RuleJobFailed, "backup-manual"); dup {
				t.Errorf("the CronJob's failed run is also reported as a Job:\n%s", reportText(rep))
			}
		})
	}
}

package diagnose

import (
	"context"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func jobSpec(labels map[string]string) batchv1.JobSpec {
	spec := podSpec(ctr("task", "busybox"))
	spec.RestartPolicy = corev1.RestartPolicyNever
	return batchv1.JobSpec{
		BackoffLimit: ptrTo(int32(0)),
		Template:     corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
	}
}

// TestJobBackoffLimitExceeded: a Job whose pod fails (exit 1) with
// backoffLimit 0 is reported failed, with its pod's failure in its group.
func TestJobBackoffLimitExceeded(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "migrate"}, Spec: jobSpec(map[string]string{simLabel: "Error"})}
	if _, err := e.Client.BatchV1().Jobs(e.Namespace).Create(context.Background(), job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := Options{Kinds: []string{"Job", "Pod"}}
	f, _ := e.waitRule(t, o, RuleJobFailed, "migrate")
	mustContain(t, "finding", allText(f), "BackoffLimitExceeded", "backoffLimit 0", "kubectl logs job/migrate")
	rep := e.waitFor(t, o, "the failed pod in the Job's group", func(r *Report) bool {
		return len(r.Groups) == 1 && len(r.Groups[0].Findings) == 2
	})
	g := rep.Groups[0]
	if g.Object.Kind != "Job" || g.Findings[1].Rule != RulePodFailed {
		t.Errorf("want the Job's group with its failed pod, got:\n%s", reportText(rep))
	}
	mustContain(t, "pod finding", allText(g.Findings[1]), "exited with code 1")
}

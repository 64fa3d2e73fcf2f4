package diagnose

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// RuleJobFailed: the Job gave up (BackoffLimitExceeded, DeadlineExceeded, ...).
const RuleJobFailed = "JobFailed"

type jobAnalyzer struct{}

var _ Analyzer = jobAnalyzer{}

func (jobAnalyzer) Kind() string      { return "Job" }
func (jobAnalyzer) Needs() []Resource { return needs(ResPods, ResEvents) }

func (jobAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.Jobs {
		j := &s.Jobs[i]
		if !s.inScope(&j.ObjectMeta) {
			continue
		}
		r.Checked++
		if owners := s.owners(&j.ObjectMeta); len(owners) > 0 && owners[len(owners)-1].Kind == "CronJob" {
			continue // the CronJob analyzer reports its last run
		}
		if f, ok := checkJob(s, j); ok {
			r.Findings = append(r.Findings, f)
		}
	}
	return r
}

func checkJob(s *Snapshot, j *batchv1.Job) (Finding, bool) {
	cond := jobCondition(j, batchv1.JobFailed)
	if cond == nil {
		return Finding{}, false
	}
	ref := refOf("Job", &j.ObjectMeta)
	f := Finding{Rule: RuleJobFailed, Severity: Critical, Object: ref, Owners: s.owners(&j.ObjectMeta)}
	f.Summary = fmt.Sprintf("failed (%s): %s", cond.Reason, trimLine(cond.Message))
	f.Evidence.Status = jobStatus(j, cond)
	f.Evidence.Events = s.eventsOf(ref, maxEvents)
	f.Cause = jobCause(j, cond)
	f.Fixes = []Fix{
		{Description: "Read the log of its last failed pod", Command: shellf("kubectl logs job/%s -n %s", j.Name, j.Namespace)},
		{Description: "After fixing the cause, run it again (a failed Job does not restart)",
			Command: shellf("kubectl delete job %s -n %s && kubectl apply -f <job manifest>", j.Name, j.Namespace)},
	}
	return f, true
}

func jobStatus(j *batchv1.Job, cond *batchv1.JobCondition) []string {
	limit := int32(6)
	if j.Spec.BackoffLimit != nil {
		limit = *j.Spec.BackoffLimit
	}
	return []string{
		fmt.Sprintf("condition Failed=True %s: %s", cond.Reason, trimLine(cond.Message)),
		fmt.Sprintf("pods: %d failed, %d succeeded, %d active; backoffLimit %d", j.Status.Failed, j.Status.Succeeded, j.Status.Active, limit),
	}
}

func jobCause(j *batchv1.Job, cond *batchv1.JobCondition) string {
	switch cond.Reason {
	case "BackoffLimitExceeded":
		return fmt.Sprintf("Its pods failed %s, more than the backoffLimit allows, so the Job stopped retrying. The failed pods' findings and logs say why they fail.", plural(int(j.Status.Failed), "time", "times"))
	case "DeadlineExceeded":
		return "The Job ran longer than spec.activeDeadlineSeconds and was stopped."
	case "PodFailurePolicy":
		return "A pod failure matched the Job's podFailurePolicy rule to fail the Job at once."
	}
	return "The Job failed: " + trimLine(cond.Message)
}

func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if c := &j.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

package diagnose

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
)

// CronJob rules.
const (
	RuleCronJobSuspended     = "CronJobSuspended"
	RuleCronJobLastRunFailed = "CronJobLastRunFailed"
)

type cronJobAnalyzer struct{}

var _ Analyzer = cronJobAnalyzer{}

func (cronJobAnalyzer) Kind() string      { return "CronJob" }
func (cronJobAnalyzer) Needs() []Resource { return needs(ResEvents) }

func (cronJobAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.CronJobs {
		cj := &s.CronJobs[i]
		if !s.inScope(&cj.ObjectMeta) {
			continue
		}
		r.Checked++
		r.Findings = append(r.Findings, checkCronJob(s, cj)...)
	}
	return r
}

func checkCronJob(s *Snapshot, cj *batchv1.CronJob) []Finding {
	var out []Finding
	ref := refOf("CronJob", &cj.ObjectMeta)
	owners := s.owners(&cj.ObjectMeta)
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		f := Finding{Rule: RuleCronJobSuspended, Severity: Warning, Object: ref, Owners: owners}
		f.Summary = fmt.Sprintf("is suspended: schedule %q starts no jobs", cj.Spec.Schedule)
		f.Evidence.Status = []string{"spec.suspend: true", "schedule: " + cj.Spec.Schedule}
		if t := cj.Status.LastScheduleTime; t != nil {
			f.Evidence.Status = append(f.Evidence.Status, "last scheduled: "+t.UTC().Format("2006-01-02 15:04:05Z"))
		}
		f.Cause = "spec.suspend is true, so the CronJob controller starts no new runs until it is resumed. That is right for a planned pause and a problem if it was forgotten."
		f.Fixes = []Fix{{Description: "Resume it", Command: shellf(`kubectl patch cronjob %s -n %s -p '{"spec":{"suspend":false}}'`, cj.Name, cj.Namespace)}}
		out = append(out, f)
	}
	// The most recent finished run decides: an old failure followed by a
	// success is history.
	var last *batchv1.Job
	var lastFailed *batchv1.JobCondition
	for _, j := range s.jobsByOwner[cj.UID] {
		failed, done := jobCondition(j, batchv1.JobFailed), jobCondition(j, batchv1.JobComplete)
		if failed == nil && done == nil {
			continue
		}
		if last == nil || j.CreationTimestamp.After(last.CreationTimestamp.Time) ||
			(j.CreationTimestamp.Equal(&last.CreationTimestamp) && j.Name > last.Name) {
			last, lastFailed = j, failed
		}
	}
	if last == nil || lastFailed == nil {
		return out
	}
	jref := refOf("Job", &last.ObjectMeta)
	f := Finding{Rule: RuleCronJobLastRunFailed, Severity: Critical, Object: ref, Owners: owners}
	f.Summary = fmt.Sprintf("its last run, job %s, failed (%s)", last.Name, lastFailed.Reason)
	f.Evidence.Status = append([]string{"last finished job: " + last.Name}, jobStatus(last, lastFailed)...)
	f.Evidence.Events = s.eventsOf(jref, maxEvents)
	f.Cause = jobCause(last, lastFailed)
	f.Fixes = []Fix{
		{Description: "Read the failed run's log", Command: shellf("kubectl logs job/%s -n %s", last.Name, last.Namespace)},
		{Description: "After fixing the cause, run it once by hand instead of waiting for the schedule",
			Command: shellf("kubectl create job %s-manual -n %s --from=cronjob/%s", cj.Name, cj.Namespace, cj.Name)},
	}
	return append(out, f)
}

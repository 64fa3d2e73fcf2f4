package alert

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/opsagent/opsagent/internal/diagnose"
)

var t0 = time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)

func ref(kind, ns, name string) diagnose.ObjectRef {
	return diagnose.ObjectRef{Kind: kind, Namespace: ns, Name: name, UID: types.UID("uid-" + name)}
}

func podFinding(rule string, sev diagnose.Severity, pod string, uid types.UID) diagnose.Finding {
	return diagnose.Finding{
		Rule: rule, Severity: sev,
		Object:  diagnose.ObjectRef{Kind: "Pod", Namespace: "todo", Name: pod, UID: uid},
		Summary: "container app: back-off restarting failed container",
	}
}

func group(obj diagnose.ObjectRef, fs ...diagnose.Finding) diagnose.Group {
	g := diagnose.Group{Object: obj, Severity: diagnose.Warning, Findings: fs}
	for _, f := range fs {
		if f.Severity == diagnose.Critical {
			g.Severity = diagnose.Critical
		}
	}
	return g
}

var (
	backend  = ref("Deployment", "todo", "backend")
	frontend = ref("Deployment", "todo", "frontend")
	crash    = podFinding("PodCrashLoopBackOff", diagnose.Critical, "backend-1", "u1")
	notReady = podFinding("PodNotReady", diagnose.Warning, "backend-1", "u1")
)

// describe is a notification in one comparable line; times are offsets
// from t0.
func describe(n Notification) string {
	s := fmt.Sprintf("%s %s %s findings=%d start=%s", n.Status, n.Group, n.Severity, len(n.Findings), n.StartsAt.Sub(t0))
	if !n.EndsAt.IsZero() {
		s += " end=" + n.EndsAt.Sub(t0).String()
	}
	return s
}

func TestTracker(t *testing.T) {
	t.Parallel()
	type step struct {
		at     time.Duration
		groups []diagnose.Group
		want   []string
	}
	tests := []struct {
		name   string
		policy Policy
		steps  []step
	}{
		{
			name: "a group that opens fires once",
			steps: []step{
				{0, nil, nil},
				{time.Minute, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=1m0s"}},
				{2 * time.Minute, []diagnose.Group{group(backend, crash)}, nil},
				{3 * time.Minute, []diagnose.Group{group(backend, crash)}, nil},
			},
		},
		{
			name: "more findings or pods in an open group notify nothing",
			steps: []step{
				{0, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{time.Minute, []diagnose.Group{group(backend, crash, notReady,
					podFinding("PodCrashLoopBackOff", diagnose.Critical, "backend-2", "u2"))}, nil},
				{2 * time.Minute, []diagnose.Group{group(backend, crash)}, nil},
			},
		},
		{
			name: "escalation from warning to critical fires once more, never twice",
			steps: []step{
				{0, []diagnose.Group{group(backend, notReady)}, []string{"firing Deployment todo/backend warning findings=1 start=0s"}},
				{time.Minute, []diagnose.Group{group(backend, notReady, crash)}, []string{"firing Deployment todo/backend critical findings=2 start=0s"}},
				{2 * time.Minute, []diagnose.Group{group(backend, notReady)}, nil},
				{3 * time.Minute, []diagnose.Group{group(backend, crash)}, nil},
			},
		},
		{
			name: "a group that disappears is resolved once, with its last findings",
			steps: []step{
				{0, []diagnose.Group{group(backend, notReady)}, []string{"firing Deployment todo/backend warning findings=1 start=0s"}},
				{time.Minute, []diagnose.Group{group(backend, notReady, crash)}, []string{"firing Deployment todo/backend critical findings=2 start=0s"}},
				{2 * time.Minute, nil, []string{"resolved Deployment todo/backend critical findings=2 start=0s end=2m0s"}},
				{3 * time.Minute, nil, nil},
			},
		},
		{
			name: "a group that reopens after it was resolved fires again with a new start",
			steps: []step{
				{0, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{time.Minute, nil, []string{"resolved Deployment todo/backend critical findings=1 start=0s end=1m0s"}},
				{2 * time.Minute, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=2m0s"}},
			},
		},
		{
			name:   "a still-firing group is re-sent every RepeatInterval",
			policy: Policy{RepeatInterval: time.Hour},
			steps: []step{
				{0, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{59 * time.Minute, []diagnose.Group{group(backend, crash)}, nil},
				{time.Hour, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{90 * time.Minute, []diagnose.Group{group(backend, crash)}, nil},
				{2 * time.Hour, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
			},
		},
		{
			name: "the default RepeatInterval is 4h",
			steps: []step{
				{0, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{4*time.Hour - time.Second, []diagnose.Group{group(backend, crash)}, nil},
				{4 * time.Hour, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
			},
		},
		{
			name:   "a negative RepeatInterval never repeats",
			policy: Policy{RepeatInterval: -1},
			steps: []step{
				{0, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{100 * time.Hour, []diagnose.Group{group(backend, crash)}, nil},
			},
		},
		{
			name:   "an escalation restarts the repeat interval",
			policy: Policy{RepeatInterval: time.Hour},
			steps: []step{
				{0, []diagnose.Group{group(backend, notReady)}, []string{"firing Deployment todo/backend warning findings=1 start=0s"}},
				{30 * time.Minute, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{time.Hour, []diagnose.Group{group(backend, crash)}, nil},
				{90 * time.Minute, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
			},
		},
		{
			name:   "ResolveAfter rides out flapping and resolves at the first absence of the last gap",
			policy: Policy{ResolveAfter: 5 * time.Minute},
			steps: []step{
				{0, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{time.Minute, nil, nil},
				{2 * time.Minute, []diagnose.Group{group(backend, crash)}, nil},
				{3 * time.Minute, nil, nil},
				{7*time.Minute + 59*time.Second, nil, nil},
				{8 * time.Minute, nil, []string{"resolved Deployment todo/backend critical findings=1 start=0s end=3m0s"}},
				{9 * time.Minute, nil, nil},
			},
		},
		{
			name:   "no repeat is sent while a group waits out ResolveAfter",
			policy: Policy{RepeatInterval: time.Minute, ResolveAfter: 10 * time.Minute},
			steps: []step{
				{0, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{5 * time.Minute, nil, nil},
				{14 * time.Minute, nil, nil},
				{15 * time.Minute, nil, []string{"resolved Deployment todo/backend critical findings=1 start=0s end=5m0s"}},
			},
		},
		{
			name:   "FireAfter holds a new group and folds an early escalation into one firing",
			policy: Policy{FireAfter: time.Minute},
			steps: []step{
				{0, []diagnose.Group{group(backend, notReady)}, nil},
				{30 * time.Second, []diagnose.Group{group(backend, crash)}, nil},
				{time.Minute, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{2 * time.Minute, []diagnose.Group{group(backend, crash)}, nil},
				{3 * time.Minute, nil, []string{"resolved Deployment todo/backend critical findings=1 start=0s end=3m0s"}},
			},
		},
		{
			name:   "a group gone before FireAfter is never notified, and starts afresh",
			policy: Policy{FireAfter: time.Minute, ResolveAfter: time.Hour},
			steps: []step{
				{0, []diagnose.Group{group(backend, notReady)}, nil},
				{30 * time.Second, nil, nil},
				{time.Minute, []diagnose.Group{group(backend, notReady)}, nil},
				{90 * time.Second, []diagnose.Group{group(backend, notReady)}, nil},
				{2 * time.Minute, []diagnose.Group{group(backend, notReady)}, []string{"firing Deployment todo/backend warning findings=1 start=1m0s"}},
			},
		},
		{
			name: "groups are keyed by kind, namespace and name: new pod and owner UIDs do not matter",
			steps: []step{
				{0, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{time.Minute, []diagnose.Group{group(
					diagnose.ObjectRef{Kind: "Deployment", Namespace: "todo", Name: "backend", UID: "recreated"},
					podFinding("PodCrashLoopBackOff", diagnose.Critical, "backend-7", "u7"))}, nil},
				{2 * time.Minute, []diagnose.Group{
					group(backend, crash),
					group(ref("Deployment", "staging", "backend"), crash),
					group(ref("StatefulSet", "todo", "backend"), crash),
				}, []string{
					"firing Deployment staging/backend critical findings=1 start=2m0s",
					"firing StatefulSet todo/backend critical findings=1 start=2m0s",
				}},
			},
		},
		{
			name: "groups are tracked apart; resolved ones come after firing ones, in name order",
			steps: []step{
				{0, []diagnose.Group{group(frontend, notReady), group(backend, crash)}, []string{
					"firing Deployment todo/frontend warning findings=1 start=0s",
					"firing Deployment todo/backend critical findings=1 start=0s",
				}},
				{time.Minute, []diagnose.Group{group(ref("Pod", "todo", "bare"), crash)}, []string{
					"firing Pod todo/bare critical findings=1 start=1m0s",
					"resolved Deployment todo/backend critical findings=1 start=0s end=1m0s",
					"resolved Deployment todo/frontend warning findings=1 start=0s end=1m0s",
				}},
			},
		},
		{
			name: "a group without findings counts as absent",
			steps: []step{
				{0, []diagnose.Group{group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=1 start=0s"}},
				{time.Minute, []diagnose.Group{group(backend)}, []string{"resolved Deployment todo/backend critical findings=1 start=0s end=1m0s"}},
				{2 * time.Minute, []diagnose.Group{group(backend)}, nil},
			},
		},
		{
			name: "two groups with one object are merged",
			steps: []step{
				{0, []diagnose.Group{group(backend, notReady), group(backend, crash)}, []string{"firing Deployment todo/backend critical findings=2 start=0s"}},
			},
		},
		{
			name: "the severity is the highest of the group and its findings",
			steps: []step{
				{0, []diagnose.Group{{Object: backend, Findings: []diagnose.Finding{notReady, crash}}}, []string{"firing Deployment todo/backend critical findings=2 start=0s"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := NewTracker("kind-dev", tt.policy)
			for _, s := range tt.steps {
				var got []string
				for _, n := range tr.Observe(t0.Add(s.at), s.groups) {
					got = append(got, describe(n))
				}
				if !slices.Equal(got, s.want) {
					t.Fatalf("at %s:\n got %q\nwant %q", s.at, got, s.want)
				}
			}
		})
	}
}

func TestTrackerNotificationFields(t *testing.T) {
	t.Parallel()
	tr := NewTracker("kind-dev", Policy{})
	in := []diagnose.Group{group(backend, crash)}
	got := tr.Observe(t0, in)
	if len(got) != 1 {
		t.Fatalf("got %d notifications, want 1", len(got))
	}
	n := got[0]
	if n.Context != "kind-dev" || n.Group != backend || n.Fingerprint != Fingerprint("kind-dev", backend) || !n.EndsAt.IsZero() {
		t.Errorf("notification = %+v", n)
	}
	if tr.Open() != 1 {
		t.Errorf("Open() = %d, want 1", tr.Open())
	}
	// The caller reuses its slices: the tracker must not see that.
	in[0].Findings[0] = notReady
	res := tr.Observe(t0.Add(time.Minute), nil)
	if len(res) != 1 || res[0].Findings[0].Rule != crash.Rule || res[0].Fingerprint != n.Fingerprint {
		t.Errorf("resolved = %+v, want the tracked finding %s and fingerprint %s", res, crash.Rule, n.Fingerprint)
	}
	if tr.Open() != 0 {
		t.Errorf("Open() after resolve = %d, want 0", tr.Open())
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	a := Fingerprint("prod", backend)
	tests := []struct {
		name    string
		context string
		obj     diagnose.ObjectRef
		same    bool
	}{
		{"same object", "prod", backend, true},
		{"another UID", "prod", diagnose.ObjectRef{Kind: "Deployment", Namespace: "todo", Name: "backend", UID: "x"}, true},
		{"another context", "staging", backend, false},
		{"another namespace", "prod", ref("Deployment", "todo2", "backend"), false},
		{"another kind", "prod", ref("StatefulSet", "todo", "backend"), false},
		{"parts shifted", "prod", ref("Deployment", "tod", "obackend"), false},
	}
	for _, tt := range tests {
		if got := Fingerprint(tt.context, tt.obj); (got == a) != tt.same {
			t.Errorf("%s: Fingerprint = %s vs %s, want same=%v", tt.name, got, a, tt.same)
		}
	}
	if len(a) != 16 {
		t.Errorf("Fingerprint %q: want 16 hex digits", a)
	}
}

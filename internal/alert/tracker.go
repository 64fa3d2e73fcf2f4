package alert

import (
	"cmp"
	"slices"
	"time"

	"github.com/opsagent/opsagent/internal/diagnose"
)

// DefaultRepeatInterval is how often a still-firing group is re-sent when
// Policy.RepeatInterval is zero.
const DefaultRepeatInterval = 4 * time.Hour

// Policy decides when a group is notified.
type Policy struct {
	// RepeatInterval re-sends a still-firing group (default 4h; <0 never).
	RepeatInterval time.Duration
	// ResolveAfter: a group must be absent this long before it is resolved
	// (default 0: at once), to ride out flapping.
	ResolveAfter time.Duration
	// FireAfter: a group must stay open this long before it fires (default
	// 0: at once), like a Prometheus rule's "for". A group that goes away
	// sooner (a rollout's brief unavailability) is never notified, and an
	// escalation within that time is folded into the one firing
	// notification (a pod that is first not ready, then crash-looping).
	FireAfter time.Duration
}

// Tracker turns successive full sets of open groups into notifications:
//
//   - a group that opens is notified once (firing), once it has been open
//     for FireAfter;
//   - more findings or pods in an open group do not notify again, except an
//     escalation from warning to critical (one new firing). A group that
//     drops back to warning and escalates again is not re-notified: it has
//     been notified as critical since it opened;
//   - a still-firing group is re-sent after RepeatInterval;
//   - a group that disappears is notified once (resolved), after it has
//     been absent for ResolveAfter; reappearing within that time cancels the
//     resolve and notifies nothing;
//   - a group that reopens after it was resolved is a new firing with a new
//     StartsAt (and the same Fingerprint).
//
// Groups are keyed by the kind, namespace and name of their object (the
// top-level owner), never by UID: pods replaced under a Deployment, or the
// Deployment itself recreated, are still the same group.
//
// A Tracker is pure logic, with no I/O and no clock of its own (the caller
// passes now), and is not safe for concurrent use: one watcher owns it.
type Tracker struct {
	context      string
	repeat       time.Duration
	resolveAfter time.Duration
	fireAfter    time.Duration
	open         map[groupKey]*openGroup
}

type groupKey struct{ kind, namespace, name string }

func keyOf(r diagnose.ObjectRef) groupKey { return groupKey{r.Kind, r.Namespace, r.Name} }

func (k groupKey) compare(o groupKey) int {
	return cmp.Or(cmp.Compare(k.kind, o.kind), cmp.Compare(k.namespace, o.namespace), cmp.Compare(k.name, o.name))
}

// openGroup is what the tracker remembers of one open group.
type openGroup struct {
	ref         diagnose.ObjectRef
	fingerprint string
	severity    diagnose.Severity
	// fired is false while the group waits out FireAfter.
	fired bool
	// notified is the highest severity sent since the group fired: an
	// escalation is a severity above it.
	notified diagnose.Severity
	findings []diagnose.Finding
	startsAt time.Time
	lastSent time.Time
	// absentSince is the first observation without the group; zero while
	// the group is present.
	absentSince time.Time
}

// NewTracker returns a tracker for the cluster named context (it goes into
// every notification and its fingerprint).
func NewTracker(context string, p Policy) *Tracker {
	repeat := p.RepeatInterval
	if repeat == 0 {
		repeat = DefaultRepeatInterval
	}
	return &Tracker{
		context:      context,
		repeat:       repeat,
		resolveAfter: max(p.ResolveAfter, 0),
		fireAfter:    max(p.FireAfter, 0),
		open:         map[groupKey]*openGroup{},
	}
}

// Observe takes the full set of groups open at now (one diagnosis of
// everything watched) and returns the notifications it calls for: firing
// ones in the order of groups, then resolved ones ordered by kind,
// namespace and name. Groups without findings count as absent; two groups
// with the same object are merged. The tracker keeps the findings it is
// given, so the caller must not modify them afterwards.
func (t *Tracker) Observe(now time.Time, groups []diagnose.Group) []Notification {
	var out []Notification
	present := make(map[groupKey]bool, len(groups))
	for _, g := range mergeGroups(groups) {
		k := keyOf(g.Object)
		present[k] = true
		sev := groupSeverity(g)
		og, known := t.open[k]
		if !known {
			og = &openGroup{fingerprint: Fingerprint(t.context, g.Object), startsAt: now}
			t.open[k] = og
		}
		og.ref, og.severity, og.findings, og.absentSince = g.Object, sev, g.Findings, time.Time{}
		var send bool
		switch {
		case !og.fired:
			send = now.Sub(og.startsAt) >= t.fireAfter
			og.fired, og.notified = send, sev
		case severer(sev, og.notified): // escalation
			send, og.notified = true, sev
		case t.repeat > 0 && now.Sub(og.lastSent) >= t.repeat:
			send = true
		}
		if send {
			og.lastSent = now
			out = append(out, t.notification(og, Firing))
		}
	}

	var gone []groupKey
	for k, og := range t.open {
		if present[k] {
			continue
		}
		if !og.fired { // gone before FireAfter: nothing was said, nothing to resolve
			delete(t.open, k)
			continue
		}
		if og.absentSince.IsZero() {
			og.absentSince = now
		}
		if now.Sub(og.absentSince) >= t.resolveAfter {
			gone = append(gone, k)
		}
	}
	slices.SortFunc(gone, groupKey.compare)
	for _, k := range gone {
		out = append(out, t.notification(t.open[k], Resolved))
		delete(t.open, k)
	}
	return out
}

// Open is the number of groups the tracker holds open, those waiting out
// FireAfter or ResolveAfter included.
func (t *Tracker) Open() int { return len(t.open) }

func (t *Tracker) notification(og *openGroup, s Status) Notification {
	n := Notification{
		Status:      s,
		Fingerprint: og.fingerprint,
		Context:     t.context,
		Group:       og.ref,
		Severity:    og.severity,
		Findings:    og.findings,
		StartsAt:    og.startsAt,
	}
	if s == Resolved {
		n.EndsAt = og.absentSince
	}
	return n
}

// mergeGroups drops groups without findings and merges groups with the same
// key into the first, in input order. The result never shares a Findings
// array with the input, so the caller may reuse its slices.
func mergeGroups(groups []diagnose.Group) []diagnose.Group {
	out := make([]diagnose.Group, 0, len(groups))
	index := make(map[groupKey]int, len(groups))
	for _, g := range groups {
		if len(g.Findings) == 0 {
			continue
		}
		k := keyOf(g.Object)
		if i, ok := index[k]; ok {
			out[i].Findings = append(out[i].Findings, g.Findings...)
			if severer(g.Severity, out[i].Severity) {
				out[i].Severity = g.Severity
			}
			continue
		}
		index[k] = len(out)
		g.Findings = slices.Clone(g.Findings)
		out = append(out, g)
	}
	return out
}

// groupSeverity is the highest severity of the group and its findings, so a
// caller that left Group.Severity empty still gets the right one.
func groupSeverity(g diagnose.Group) diagnose.Severity {
	sev := diagnose.Warning
	if g.Severity == diagnose.Critical {
		sev = diagnose.Critical
	}
	for _, f := range g.Findings {
		if severer(f.Severity, sev) {
			sev = f.Severity
		}
	}
	return sev
}

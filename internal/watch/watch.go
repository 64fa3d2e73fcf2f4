// Package watch diagnoses a cluster continuously: informers keep the
// objects a diagnosis reads (one LIST per resource at start, then watches),
// each change is diagnosed from the caches after a short quiet period, and
// what changed in the findings is emitted as new and resolved events, sent
// as alerts and exported as metrics. The design is in docs/watch.md.
package watch

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/alert"
	"github.com/opsagent/opsagent/internal/diagnose"
)

// APIVersion and Kind of the JSON lines watch writes (docs/watch.md).
const (
	APIVersion = diagnose.APIVersion
	KindEvent  = "WatchEvent"
)

// EventType says what a watch event reports.
type EventType string

// The events a watcher emits.
const (
	// EventSynced: every cache holds its first list; diagnoses start.
	EventSynced EventType = "synced"
	// EventNew: a finding that was not open in the previous diagnosis.
	EventNew EventType = "new"
	// EventResolved: a finding open in the previous diagnosis and not now.
	EventResolved EventType = "resolved"
	// EventError: a diagnosis or a usage sample failed; the watcher goes on.
	EventError EventType = "error"
)

// Event is one JSON line of `opsagent watch -o json`.
type Event struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Type       EventType `json:"type"`
	Time       time.Time `json:"time"`
	Context    string    `json:"context,omitempty"`
	// Group is the top-level owner the finding is grouped under (the
	// Deployment of a crashing pod), as diagnose groups it.
	Group *diagnose.ObjectRef `json:"group,omitempty"`
	// Finding is the finding that opened, or the last seen of one that was
	// resolved.
	Finding *diagnose.Finding `json:"finding,omitempty"`
	// Initial marks findings already open when the watcher started.
	Initial bool `json:"initial,omitempty"`
	// Since is when a resolved finding was first seen.
	Since *time.Time `json:"since,omitempty"`
	// Sync describes the caches (synced events).
	Sync *SyncInfo `json:"sync,omitempty"`
	// Message says what failed (error events).
	Message string `json:"message,omitempty"`
}

// SyncInfo is what the watcher follows once its caches are filled.
type SyncInfo struct {
	DurationMillis int64          `json:"durationMillis"`
	Objects        map[string]int `json:"objects"`
	// Errors are lists this identity may not read: their checks do not
	// run, as in a diagnose report.
	Errors []diagnose.CheckError `json:"errors,omitempty"`
}

// Sink receives events. The watcher calls it from one goroutine at a time.
type Sink func(Event) error

// Options configure a watcher.
type Options struct {
	// Diagnose is the scope: Namespace/AllNamespaces, NamespaceExplicit,
	// Selector, Kinds. Logs are never read (a watcher diagnoses often) and
	// findings are kept one per object.
	Diagnose diagnose.Options
	// Interval diagnoses again without any change, for the rules that
	// depend on time (a pod pending for more than two minutes). Default 30s.
	Interval time.Duration
	// Debounce is the quiet period after a change before a diagnosis, so a
	// rollout of many pods is diagnosed once. Default 500ms.
	Debounce time.Duration
	// MinGap is the least time between the starts of two diagnoses, so a
	// cluster that changes all the time (pods crash-looping somewhere) is
	// diagnosed at most this often. Default 2s: a change is reported
	// within about 2.5 s plus one diagnosis.
	MinGap time.Duration
	// SyncTimeout bounds the first fill of the caches. Default 2m.
	SyncTimeout time.Duration
	// Sample records usage into a local history (nil: off).
	Sample *SampleOptions
	// Alerts receives notifications (nil: none).
	Alerts *alert.Dispatcher
	// AlertPolicy is the grouping policy of notifications.
	AlertPolicy alert.Policy
	// Metrics are updated as the watcher works (nil: a private set).
	Metrics *Metrics
	// Log is where failures that are not events go (nil: discarded).
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	o.Interval = cmp.Or(o.Interval, 30*time.Second)
	o.Debounce = cmp.Or(o.Debounce, 500*time.Millisecond)
	o.MinGap = cmp.Or(o.MinGap, 2*time.Second)
	o.SyncTimeout = cmp.Or(o.SyncTimeout, 2*time.Minute)
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Diagnose.Logs.Disabled = true
	o.Diagnose.Unfolded = true
	return o
}

// Watcher is one continuous diagnosis.
type Watcher struct {
	o       Options
	context string
	client  kubernetes.Interface
	meta    metadata.Interface
	diag    *diagnose.Diagnoser
	need    []diagnose.Resource
	sampler *sampler

	changed chan struct{}
	open    map[findingKey]openFinding
	tracker *alert.Tracker
}

// findingKey identifies one finding across diagnoses: a rule about an
// object. The object's name, not its UID: a StatefulSet pod re-created
// with the same problem is the same open finding.
type findingKey struct {
	rule, kind, namespace, name string
}

type openFinding struct {
	group   diagnose.ObjectRef
	finding diagnose.Finding
	since   time.Time
}

// New builds a watcher of the cluster cfg points at. Nothing is read until
// Run.
func New(cfg *rest.Config, contextName string, o Options) (*Watcher, error) {
	o = o.withDefaults()
	need, err := diagnose.Needs(o.Diagnose)
	if err != nil {
		return nil, err
	}
	rc, err := diagnose.NewReadClients(o.Metrics.Instrument(cfg))
	if err != nil {
		return nil, err
	}
	client, meta := rc.Typed, rc.Meta
	w := &Watcher{
		o: o, context: contextName, client: client, meta: meta,
		diag:    diagnose.NewForClient(client, meta, contextName),
		changed: make(chan struct{}, 1),
		open:    map[findingKey]openFinding{},
		tracker: alert.NewTracker(contextName, o.AlertPolicy),
	}
	if o.Sample != nil {
		s, err := newSampler(rc.Config, rc.HTTP, contextName, *o.Sample, o.Metrics, o.Log)
		if err != nil {
			return nil, err
		}
		w.sampler = s
		need = appendMissing(need, samplerNeeds...)
	}
	w.need = need
	return w, nil
}

func appendMissing(list []diagnose.Resource, add ...diagnose.Resource) []diagnose.Resource {
	for _, r := range add {
		if !slices.Contains(list, r) {
			list = append(list, r)
		}
	}
	return list
}

// poke records that something changed; it never blocks an informer.
func (w *Watcher) poke() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// Run fills the caches, emits a synced event, then diagnoses on every
// change (after Debounce) and every Interval until ctx ends. It returns nil
// when ctx ends, and an error only when the caches cannot be filled or sink
// fails (the output is gone: there is no point going on).
func (w *Watcher) Run(ctx context.Context, sink Sink) error {
	ctx, cancel := context.WithCancel(ctx)
	ns := w.o.Diagnose.Namespace
	if w.o.Diagnose.AllNamespaces {
		ns = ""
	}
	start := time.Now()
	if err := w.diag.CheckNamespace(ctx, w.o.Diagnose); err != nil {
		cancel()
		return err
	}
	c, err := newObjectCache(ctx, w.client, w.meta, ns, w.need, w.poke)
	if err != nil {
		cancel()
		return err
	}
	var wg sync.WaitGroup
	// The informers' goroutines stop when ctx ends; shutdown waits for them.
	defer func() {
		cancel()
		wg.Wait()
		c.shutdown()
	}()
	syncCtx, syncCancel := context.WithTimeoutCause(ctx, w.o.SyncTimeout,
		fmt.Errorf("not filled within %s (a slow or overloaded API server; raise --sync-timeout)", w.o.SyncTimeout))
	err = c.start(ctx, syncCtx)
	syncCancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("start watching: %w", err)
	}
	w.o.Metrics.markSynced()
	info := &SyncInfo{DurationMillis: time.Since(start).Milliseconds(), Objects: countsOf(c.objects())}
	for r, err := range c.failed {
		info.Errors = append(info.Errors, diagnose.CheckError{Resource: string(r), Message: err.Error()})
	}
	slices.SortFunc(info.Errors, func(a, b diagnose.CheckError) int { return cmp.Compare(a.Resource, b.Resource) })
	if err := sink(w.event(EventSynced, time.Now(), func(e *Event) { e.Sync = info })); err != nil {
		return err
	}
	if w.sampler != nil {
		wg.Go(func() { w.sampler.run(ctx, c) })
	}

	last := time.Now()
	if err := w.diagnose(ctx, c, sink, true); err != nil {
		return err
	}
	tick := time.NewTicker(w.o.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-w.changed:
			// A quiet period, one diagnosis for a burst of changes, and
			// never more often than MinGap.
			wait := max(w.o.Debounce, time.Until(last.Add(w.o.MinGap)))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			select { // changes while waiting are in this diagnosis
			case <-w.changed:
			default:
			}
		}
		last = time.Now()
		if err := w.diagnose(ctx, c, sink, false); err != nil {
			return err
		}
	}
}

func (w *Watcher) event(t EventType, now time.Time, fill func(*Event)) Event {
	e := Event{APIVersion: APIVersion, Kind: KindEvent, Type: t, Time: now.UTC(), Context: w.context}
	if fill != nil {
		fill(&e)
	}
	return e
}

// diagnose diagnoses the caches and emits what changed since the last time.
// A failed diagnosis is an error event, not the end of the watch.
func (w *Watcher) diagnose(ctx context.Context, c *objectCache, sink Sink, initial bool) error {
	m := w.o.Metrics
	start := time.Now()
	objs := c.objects()
	for r, n := range countsOf(objs) {
		m.CachedObjects.WithLabelValues(r).Set(float64(n))
	}
	rep, err := w.diag.Analyze(ctx, w.o.Diagnose, objs)
	m.Analyses.Inc()
	m.AnalysisDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		m.AnalysisErrors.Inc()
		return sink(w.event(EventError, time.Now(), func(e *Event) { e.Message = "diagnose: " + err.Error() }))
	}
	now := time.Now()
	m.LastAnalysis.Set(float64(now.Unix()))
	m.setOpen(rep.Groups)

	current := make(map[findingKey]openFinding, len(w.open))
	var events []Event
	for _, g := range rep.Groups {
		for _, f := range g.Findings {
			k := findingKey{f.Rule, f.Object.Kind, f.Object.Namespace, f.Object.Name}
			if prev, ok := w.open[k]; ok {
				current[k] = openFinding{group: g.Object, finding: f, since: prev.since}
				continue
			}
			current[k] = openFinding{group: g.Object, finding: f, since: now}
			events = append(events, w.event(EventNew, now, func(e *Event) {
				e.Group, e.Finding, e.Initial = &g.Object, &f, initial
			}))
		}
	}
	for k, prev := range w.open {
		if _, ok := current[k]; !ok {
			events = append(events, w.event(EventResolved, now, func(e *Event) {
				e.Group, e.Finding, e.Since = &prev.group, &prev.finding, &prev.since
			}))
		}
	}
	w.open = current
	slices.SortFunc(events, compareEvents)
	for _, e := range events {
		m.Findings.WithLabelValues(string(e.Type)).Inc()
		if err := sink(e); err != nil {
			return err
		}
	}
	if w.o.Alerts != nil {
		for _, n := range w.tracker.Observe(now, rep.Groups) {
			w.o.Alerts.Send(n)
		}
	}
	return nil
}

// compareEvents orders one diagnosis's events: new before resolved, the
// most severe first, then by group and object.
func compareEvents(a, b Event) int {
	rank := func(e Event) int {
		if e.Finding != nil && e.Finding.Severity == diagnose.Critical {
			return 0
		}
		return 1
	}
	return cmp.Or(
		cmp.Compare(a.Type, b.Type), // "new" < "resolved"
		cmp.Compare(rank(a), rank(b)),
		cmp.Compare(a.Group.Namespace, b.Group.Namespace),
		cmp.Compare(a.Group.Kind, b.Group.Kind),
		cmp.Compare(a.Group.Name, b.Group.Name),
		cmp.Compare(a.Finding.Rule, b.Finding.Rule),
		cmp.Compare(a.Finding.Object.Name, b.Finding.Object.Name),
	)
}

package kubetools

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/opsagent/opsagent/internal/kube"
)

// maxEventsScanned bounds how many events one query reads before sorting.
// The API cannot sort by time, so "newest first" means reading them all;
// namespaces with more events than this are reported as partial.
const maxEventsScanned = 5000

// eventQuery selects events in one namespace ("" for all).
type eventQuery struct {
	Namespace string
	// UIDs, if set, keeps only events whose involvedObject is one of them.
	// One UID is sent to the API as a field selector; several are
	// filtered here (field selectors cannot express "one of").
	UIDs         []string
	WarningsOnly bool
	Limit        int
}

// EventRow is one event, as kubectl get events shows it.
type EventRow struct {
	LastSeen string `json:"lastSeen"`
	Type     string `json:"type"`
	Reason   string `json:"reason"`
	Object   string `json:"object"`
	Message  string `json:"message"`
	Count    int32  `json:"count,omitempty"`
}

func eventRow(e *corev1.Event) EventRow {
	r := EventRow{
		LastSeen: age(metav1.NewTime(eventTime(e))),
		Type:     e.Type,
		Reason:   e.Reason,
		Object:   strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name,
		Message:  truncate(e.Message, maxMessageLen),
	}
	if n := eventCount(e); n > 1 {
		r.Count = n
	}
	return r
}

// eventPage is the newest events matching a query.
type eventPage struct {
	Rows []EventRow
	// Matched is how many events matched in total (at most the scan bound).
	Matched int
	// Partial means the scan bound was hit, so older or newer events may
	// be missing.
	Partial bool
}

// queryEvents reads matching events page by page and returns the newest
// Limit of them, newest first.
func queryEvents(ctx context.Context, c *kube.Clients, q eventQuery) (eventPage, error) {
	var sel []fields.Selector
	if len(q.UIDs) == 1 {
		sel = append(sel, fields.OneTermEqualSelector("involvedObject.uid", q.UIDs[0]))
	}
	if q.WarningsOnly {
		sel = append(sel, fields.OneTermEqualSelector("type", corev1.EventTypeWarning))
	}
	opts := metav1.ListOptions{Limit: maxListLimit, FieldSelector: fields.AndSelectors(sel...).String()}
	var (
		matched []corev1.Event
		page    eventPage
		scanned int
	)
	for {
		l, err := c.Typed.CoreV1().Events(q.Namespace).List(ctx, opts)
		if err != nil {
			return page, fmt.Errorf("list events in %s: %w", nsLabel(q.Namespace), err)
		}
		scanned += len(l.Items)
		for _, e := range l.Items {
			if len(q.UIDs) > 1 && !slices.Contains(q.UIDs, string(e.InvolvedObject.UID)) {
				continue
			}
			matched = append(matched, e)
		}
		if l.Continue == "" {
			break
		}
		if scanned >= maxEventsScanned {
			page.Partial = true
			break
		}
		opts.Continue = l.Continue
	}
	slices.SortStableFunc(matched, func(a, b corev1.Event) int { return eventTime(&b).Compare(eventTime(&a)) })
	page.Matched = len(matched)
	for i := range matched[:min(len(matched), q.Limit)] {
		page.Rows = append(page.Rows, eventRow(&matched[i]))
	}
	return page, nil
}

// eventTime is when an event last happened, whichever API generation wrote it.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

func eventCount(e *corev1.Event) int32 {
	if e.Series != nil && e.Series.Count > e.Count {
		return e.Series.Count
	}
	return e.Count
}

func nsLabel(ns string) string {
	if ns == "" {
		return "all namespaces"
	}
	return "namespace " + ns
}

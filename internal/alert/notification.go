// Package alert turns what `opsagent watch` finds into notifications and
// delivers them to webhooks.
//
// Two parts, two jobs:
//
//   - Tracker is pure logic: it compares each full set of open diagnosis
//     groups with the previous ones and says which groups opened, escalated,
//     are due a reminder, or went away. It deduplicates: one group, one
//     firing notification, one resolved notice.
//   - Dispatcher is the I/O: every receiver (a generic JSON webhook or a
//     Slack-compatible one) has its own goroutine and bounded queue, retries
//     with backoff, and never makes the caller wait, so a dead receiver
//     cannot stop the watcher.
//
// The payloads and rules are documented in docs/watch-alerts.md.
package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/opsagent/opsagent/internal/diagnose"
)

// Status of a notification.
type Status string

// Statuses.
const (
	// Firing: the group has open findings.
	Firing Status = "firing"
	// Resolved: the group has no open findings any more.
	Resolved Status = "resolved"
)

// Notification is one message about one group: a top-level owner
// (Deployment, StatefulSet, ... or a bare object) and its findings.
type Notification struct {
	Status Status
	// Fingerprint is the stable id of the group (see Fingerprint): equal for
	// every notification about the group, across reopenings and restarts.
	Fingerprint string
	// Context is the kube context name, for receivers watching several clusters.
	Context string
	Group   diagnose.ObjectRef
	// Severity is the highest open severity (resolved: the last one seen).
	Severity diagnose.Severity
	// Findings are the open findings (firing) or the last open ones (resolved).
	Findings []diagnose.Finding
	// StartsAt is when the group was first seen open; a reopened group has
	// a new StartsAt.
	StartsAt time.Time
	// EndsAt is zero unless resolved: then it is the first observation that
	// no longer had the group.
	EndsAt time.Time
}

// Fingerprint is the stable id of a group in a context: a hash of the
// context and the object's kind, namespace and name. The UID is left out on
// purpose, so a bare pod or an owner deleted and recreated under the same
// name keeps its id.
func Fingerprint(context string, obj diagnose.ObjectRef) string {
	h := sha256.New()
	for _, part := range []string{context, obj.Kind, obj.Namespace, obj.Name} {
		h.Write([]byte(part))
		h.Write([]byte{0}) // separator: ("a", "bc") and ("ab", "c") differ
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// severer reports whether a is more severe than b. Anything that is not
// Critical ranks as Warning, as in diagnose.
func severer(a, b diagnose.Severity) bool {
	return a == diagnose.Critical && b != diagnose.Critical
}

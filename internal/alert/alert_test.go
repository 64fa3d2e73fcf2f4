package alert

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/opsagent/opsagent/internal/diagnose"
)

// TestWatchLoop drives Tracker and Dispatcher as `opsagent watch` does: a
// pod fails, is diagnosed again and again, then is fixed. The live receiver
// gets exactly one alert and one resolved notice, and a dead receiver next
// to it holds up neither the loop nor the live one.
func TestWatchLoop(t *testing.T) {
	t.Parallel()
	live := newTestReceiver(t, nil)
	deadCfg := fast("dead", deadURL(t), FormatSlack)
	deadCfg.InitialBackoff, deadCfg.MaxBackoff, deadCfg.MaxAttempts = time.Second, time.Minute, 8
	d := newTestDispatcher(t, nil, fast("live", live.URL, FormatJSON), deadCfg)
	tracker := NewTracker("kind-dev", Policy{})

	failing := []diagnose.Group{group(backend, crash)}
	cycles := [][]diagnose.Group{failing, failing, failing, {group(backend, crash, notReady)}, failing, nil, nil}
	start := time.Now()
	for i, groups := range cycles {
		for _, n := range tracker.Observe(t0.Add(time.Duration(i)*30*time.Second), groups) {
			d.Send(n)
		}
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("the loop took %s with a dead receiver", took)
	}

	live.waitFor(t, 2, 5*time.Second)
	time.Sleep(100 * time.Millisecond) // time for a wrong third request to arrive
	got := live.got()
	if len(got) != 2 {
		t.Fatalf("live receiver got %d requests, want a firing and a resolved one", len(got))
	}
	for i, want := range []Status{Firing, Resolved} {
		var p Payload
		if err := json.Unmarshal(got[i].body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Status != want || p.Group.Name != "backend" || p.Context != "kind-dev" {
			t.Errorf("request %d: %s %s/%s in %q, want %s backend", i, p.Status, p.Group.Namespace, p.Group.Name, p.Context, want)
		}
	}
	// The dead receiver is still retrying with production backoffs: Close
	// gives up on it at the deadline, and says so.
	if err := closeWithin(t, d, 300*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want a deadline error for the dead receiver", err)
	}
	if s := stats(d, 0); s.sent != 2 {
		t.Errorf("live receiver stats %+v, want 2 sent", s)
	}
	if s := stats(d, 1); s.sent != 0 || s.attempts == 0 || s.failed+s.dropped != 2 {
		t.Errorf("dead receiver stats %+v, want attempts, nothing sent, both notifications failed or dropped", s)
	}
}

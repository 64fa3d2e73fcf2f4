package alert

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Dispatcher delivers notifications to receivers, each from its own
// goroutine and bounded queue, so a slow or dead receiver delays neither the
// caller nor the other receivers.
//
// Send never blocks: when a receiver's queue is full the oldest queued
// notification is dropped and counted. Delivery retries on network errors,
// timeouts, 408, 429 and 5xx, with backoff (a Retry-After answer is honoured
// up to MaxBackoff); other answers outside 2xx (4xx, redirects) are not
// retried, only logged and counted. Close(ctx) stops accepting, drains what
// it can until ctx ends, then stops every goroutine.
//
// Send and Close are safe for concurrent use. A nil *Dispatcher sends
// nothing, so a watcher without receivers needs no special case.
type Dispatcher struct {
	receivers []*receiver
	transport *http.Transport
	// cancel aborts in-flight requests and backoff waits once Close's
	// context ends.
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// receiver is one configured webhook and its queue.
type receiver struct {
	cfg    ReceiverConfig
	client *http.Client
	log    *slog.Logger
	m      receiverMetrics
	q      *queue
	// abandoned counts notifications Close gave up on (queued or in flight
	// when its context ended).
	abandoned atomic.Int64
	// drops and lastDropLog rate-limit the queue-full warning: a dead
	// receiver drops on every Send, and one line a minute says as much.
	drops       atomic.Int64
	lastDropLog atomic.Int64 // unix nanoseconds
}

// dropLogEvery is how often a receiver that keeps dropping says so.
const dropLogEvery = time.Minute

// NewDispatcher validates the receivers, fills in their defaults and
// starts one goroutine per receiver; Close stops them. log may be nil (no
// logs); reg may be nil (metrics kept but not exported).
func NewDispatcher(receivers []ReceiverConfig, log *slog.Logger, reg prometheus.Registerer) (*Dispatcher, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfgs := make([]ReceiverConfig, len(receivers))
	names := make(map[string]bool, len(receivers))
	for i, rc := range receivers {
		c, err := rc.withDefaults(i)
		if err != nil {
			return nil, err
		}
		if names[c.Name] {
			return nil, fmt.Errorf("alert receiver %s: the name is used twice: give each receiver its own name (it labels the metrics)", c.Name)
		}
		names[c.Name] = true
		cfgs[i] = c
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	client := &http.Client{
		Transport: transport,
		// A webhook that redirects is misconfigured (http to https, a moved
		// endpoint); following it would turn the POST into a GET.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{transport: transport, cancel: cancel}
	for _, c := range cfgs {
		rm := m.forReceiver(c.Name)
		r := &receiver{
			cfg:    c,
			client: client,
			log:    log.With("receiver", c.Name),
			m:      rm,
			q:      newQueue(c.QueueSize, rm.queue),
		}
		d.receivers = append(d.receivers, r)
		d.wg.Go(func() { r.run(ctx) })
	}
	return d, nil
}

// Send queues n for every receiver and returns at once. After Close it
// only counts n as dropped.
func (d *Dispatcher) Send(n Notification) {
	if d == nil {
		return
	}
	for _, r := range d.receivers {
		accepted, dropped := r.q.push(n)
		switch {
		case !accepted:
			r.m.dropped.Inc()
			r.log.Warn("alert dropped: the dispatcher is closed", "group", n.Group.String(), "status", n.Status)
		case dropped:
			r.m.dropped.Inc()
			r.noteDrop()
		}
	}
}

// noteDrop logs a full queue at most once per dropLogEvery.
func (r *receiver) noteDrop() {
	total := r.drops.Add(1)
	now := time.Now().UnixNano()
	last := r.lastDropLog.Load()
	if last != 0 && now-last < int64(dropLogEvery) || !r.lastDropLog.CompareAndSwap(last, now) {
		return
	}
	r.log.Warn("alert queue full: dropping the oldest notifications; the receiver is down or slower than the alerts",
		"queueSize", r.cfg.QueueSize, "droppedSoFar", total)
}

// Close stops accepting notifications and waits until every receiver has
// delivered (or given up on) what it holds, or until ctx ends: then
// in-flight requests and backoff waits are cancelled and what is left is
// dropped. It returns an error naming how many notifications were left
// undelivered that way. Calling Close again waits the same way.
func (d *Dispatcher) Close(ctx context.Context) error {
	if d == nil {
		return nil
	}
	d.closeOnce.Do(func() {
		for _, r := range d.receivers {
			r.q.close()
		}
	})
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		d.cancel()
		<-done
	}
	d.cancel()
	// Keep-alive connections hold goroutines of their own.
	d.transport.CloseIdleConnections()

	var lost int64
	for _, r := range d.receivers {
		lost += r.abandoned.Load()
	}
	if lost == 0 {
		return nil
	}
	err := fmt.Errorf("close alert dispatcher: %d %s not delivered before the deadline",
		lost, plural(int(lost), "notification", "notifications"))
	if ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", err, ctx.Err())
	}
	return err
}

// run delivers the receiver's queue in order until the queue is closed and
// empty, or ctx ends.
func (r *receiver) run(ctx context.Context) {
	for ctx.Err() == nil {
		n, ok, finished := r.q.pop()
		if finished {
			return
		}
		if !ok {
			select {
			case <-r.q.wake:
			case <-r.q.closing:
			case <-ctx.Done():
			}
			continue
		}
		r.deliver(ctx, n)
	}
	if left := r.q.clear(); left > 0 {
		r.m.dropped.Add(float64(left))
		r.abandoned.Add(int64(left))
		r.log.Warn("alerts dropped at shutdown: the receiver did not take them in time", "count", left)
	}
}

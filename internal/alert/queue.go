package alert

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// queue is a bounded FIFO of notifications that never blocks its writer:
// when full, push drops the oldest. Dropping the oldest rather than the
// newest keeps what a person most needs, the latest state (a resolved
// notice queued behind its stale firing one, say).
type queue struct {
	mu     sync.Mutex
	buf    []Notification // ring of cap(buf)
	head   int            // index of the oldest
	n      int
	closed bool
	// wake has room for one signal: a push while the worker is busy leaves
	// it set, so the worker never sleeps on a non-empty queue.
	wake chan struct{}
	// closing is closed by close: no more pushes, drain what is left.
	closing chan struct{}
	// length is set to n under mu, so it never shows a stale value.
	length prometheus.Gauge
}

func newQueue(size int, length prometheus.Gauge) *queue {
	return &queue{buf: make([]Notification, size), wake: make(chan struct{}, 1), closing: make(chan struct{}), length: length}
}

// push appends n. It reports whether n was accepted (false once closed) and
// whether an older notification was dropped to make room.
func (q *queue) push(n Notification) (accepted, dropped bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false, false
	}
	if q.n == len(q.buf) {
		q.buf[q.head] = Notification{} // release its findings
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		dropped = true
	}
	q.buf[(q.head+q.n)%len(q.buf)] = n
	q.n++
	q.length.Set(float64(q.n))
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true, dropped
}

// pop takes the oldest notification, if any. finished is true when the
// queue is closed and empty: nothing will ever come (both are read under
// one lock, so a push cannot slip in between).
func (q *queue) pop() (n Notification, ok, finished bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return Notification{}, false, q.closed
	}
	n, q.buf[q.head] = q.buf[q.head], Notification{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	q.length.Set(float64(q.n))
	return n, true, false
}

// close refuses further pushes and tells the worker to finish. Safe to call
// more than once.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.closing)
	}
}

// clear empties the queue and returns how many notifications it held.
func (q *queue) clear() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.n
	clear(q.buf)
	q.head, q.n = 0, 0
	q.length.Set(0)
	return n
}

package alert

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the dispatcher's Prometheus metrics. The only label is the
// receiver's configured name (a bounded set), never a URL or an object.
type metrics struct {
	sent     *prometheus.CounterVec
	failed   *prometheus.CounterVec
	dropped  *prometheus.CounterVec
	attempts *prometheus.CounterVec
	queue    *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_alerts_sent_total", Help: "Alert notifications a receiver accepted (2xx), by receiver and status (firing, resolved).",
		}, []string{"receiver", "status"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_alerts_failed_total", Help: "Alert notifications given up on: retries exhausted, a non-retryable answer, or abandoned at shutdown.",
		}, []string{"receiver"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_alerts_dropped_total", Help: "Alert notifications dropped unsent: the oldest of a full queue, or still queued when shutdown gave up.",
		}, []string{"receiver"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsagent_alert_delivery_attempts_total", Help: "HTTP requests made to deliver alert notifications, retries included.",
		}, []string{"receiver"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "opsagent_alert_queue_length", Help: "Alert notifications waiting in a receiver's queue.",
		}, []string{"receiver"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.sent, err = register(reg, m.sent)
	if err == nil {
		m.failed, err = register(reg, m.failed)
	}
	if err == nil {
		m.dropped, err = register(reg, m.dropped)
	}
	if err == nil {
		m.attempts, err = register(reg, m.attempts)
	}
	if err == nil {
		m.queue, err = register(reg, m.queue)
	}
	return m, err
}

// register registers c, or returns the collector already registered under
// its name, so two dispatchers (a restart in a test, two watchers) can share
// one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register alert metrics: %w", err)
}

// receiverMetrics are one receiver's series, resolved once.
type receiverMetrics struct {
	sentFiring, sentResolved, failed, dropped, attempts prometheus.Counter
	queue                                               prometheus.Gauge
}

// forReceiver resolves name's series; they exist (at 0) from the start, so a
// dashboard shows a receiver before its first alert.
func (m *metrics) forReceiver(name string) receiverMetrics {
	return receiverMetrics{
		sentFiring:   m.sent.WithLabelValues(name, string(Firing)),
		sentResolved: m.sent.WithLabelValues(name, string(Resolved)),
		failed:       m.failed.WithLabelValues(name),
		dropped:      m.dropped.WithLabelValues(name),
		attempts:     m.attempts.WithLabelValues(name),
		queue:        m.queue.WithLabelValues(name),
	}
}

func (rm receiverMetrics) sent(s Status) prometheus.Counter {
	if s == Resolved {
		return rm.sentResolved
	}
	return rm.sentFiring
}

package watch

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/usage"
)

// SampleOptions configure usage sampling: every Interval the watcher reads
// what metrics-server reports for the pods it follows and records it into
// the local history that `opsagent recommend` reads (docs/usage.md).
type SampleOptions struct {
	// Interval between samples (default 1m). metrics-server itself
	// refreshes every 15 to 60 s: sampling faster only repeats values.
	Interval time.Duration
	// HistoryPath is the history file (usage.DefaultHistoryPath of the
	// context when empty).
	HistoryPath string
}

// samplerNeeds are the caches sampling reads: pods and the workloads their
// containers are sized by.
var samplerNeeds = []diagnose.Resource{
	diagnose.ResPods, diagnose.ResReplicaSets, diagnose.ResDeployments, diagnose.ResStatefulSets, diagnose.ResDaemonSets,
}

type sampler struct {
	o       SampleOptions
	metrics metricsclient.Interface
	m       *Metrics
	log     *slog.Logger
	history *usage.History
}

func newSampler(cfg *rest.Config, hc *http.Client, contextName string, o SampleOptions, m *Metrics, log *slog.Logger) (*sampler, error) {
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.HistoryPath == "" {
		p, err := usage.DefaultHistoryPath(contextName)
		if err != nil {
			return nil, err
		}
		o.HistoryPath = p
	}
	// Read it now: a history that cannot be read is a reason not to start,
	// not something to find out a minute later.
	h, err := usage.LoadHistory(o.HistoryPath)
	if err != nil {
		return nil, err
	}
	mc, err := metricsclient.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("build metrics client: %w", err)
	}
	return &sampler{o: o, metrics: mc, m: m, log: log, history: h}, nil
}

// run samples every interval until ctx ends. The first sample is taken at
// once, so a short watch still leaves a sample behind.
func (s *sampler) run(ctx context.Context, c *objectCache) {
	tick := time.NewTicker(s.o.Interval)
	defer tick.Stop()
	failing := false
	for {
		err := s.sample(ctx, c)
		switch {
		case err != nil && ctx.Err() == nil:
			s.m.SampleErrors.Inc()
			if !failing { // said once, not every minute
				s.log.Warn("usage sampling failed; retrying every interval", "interval", s.o.Interval, "err", err)
			}
			failing = true
		case err == nil && failing:
			s.log.Info("usage sampling works again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sample records one sample of every running container metrics-server
// reports, and saves the history.
func (s *sampler) sample(ctx context.Context, c *objectCache) error {
	s.m.Samplings.Inc()
	list, err := s.metrics.MetricsV1beta1().PodMetricses(c.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("read pod metrics: %w", err)
	}
	o := c.objects()
	snap := usage.NewSnapshot(time.Now(), usage.Scope{Namespace: c.namespace},
		deref(o.Pods), deref(o.ReplicaSets), deref(o.Deployments), deref(o.StatefulSets), deref(o.DaemonSets), nil, list.Items)
	samples := usage.SamplesOf(snap)
	s.history.Record(samples...)
	if err := s.history.Save(s.o.HistoryPath, snap.Time); err != nil {
		return err
	}
	s.m.Samples.Add(float64(len(samples)))
	return nil
}

// deref copies pointed-to structs into a slice, for the usage package,
// which takes slices as listed.
func deref[T any](ptrs []*T) []T {
	out := make([]T, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

// Package heap samples the Go heap for the benchmark programs under bench/.
package heap

import (
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// liveObjects is the heap held by live (and not yet swept) objects.
const liveObjects = "/memory/classes/heap/objects:bytes"

// Live returns the heap's object bytes now.
func Live() uint64 {
	s := []metrics.Sample{{Name: liveObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// SamplePeak samples the heap every interval until the returned function
// is called, which returns the largest value seen. runtime/metrics reads do
// not stop the world, so sampling costs what is measured little.
func SamplePeak(interval time.Duration) (stop func() uint64) {
	sample := []metrics.Sample{{Name: liveObjects}}
	var peak atomic.Uint64
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}

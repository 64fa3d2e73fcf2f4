package usage

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The local usage history: what `opsagent watch` samples and `recommend`
// reads when no Prometheus is configured. It is bounded by construction:
// per series (a workload's container) one entry per UTC day, each a
// histogram of exponential buckets plus the exact peak, kept for MaxDays
// days; at most MaxSeries series, the least recently seen dropped first.
// The format is documented in docs/usage.md.

// HistoryVersion is the format version written in the file.
const HistoryVersion = 1

// Bounds of the history file.
const (
	MaxDays   = 35
	MaxSeries = 20000
)

// bucketRatio is the width of a histogram bucket: each bucket's upper bound
// is 5% above the previous one, so a percentile read from the buckets is at
// most 5% above the true value (never below it).
const bucketRatio = 1.05

// cpuBase and memBase are the upper bounds of bucket 0: 1 millicore, 1 MiB.
const (
	cpuBase = 1
	memBase = 1 << 20
)

// SeriesKey names one container of one workload.
type SeriesKey struct {
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Container string `json:"container"`
}

// Sample is one observation of one container of one pod.
type Sample struct {
	Key         SeriesKey
	Time        time.Time
	CPUMilli    int64
	MemoryBytes int64
}

// Histogram counts samples in exponential buckets and keeps the exact peak.
type Histogram struct {
	Max int64 `json:"max"`
	// Buckets maps a bucket index to its count; bucket i holds values up to
	// base × 1.05^i (base: 1 millicore for CPU, 1 MiB for memory).
	Buckets map[int]int `json:"buckets"`
}

// Day is one series' samples of one UTC day.
type Day struct {
	Date    string    `json:"date"` // 2006-01-02
	Samples int       `json:"samples"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	CPU     Histogram `json:"cpu"`
	Memory  Histogram `json:"memory"`
}

// Series is the history of one container of one workload.
type Series struct {
	SeriesKey
	LastSeen time.Time `json:"lastSeen"`
	Days     []*Day    `json:"days"`
}

// History is the whole file.
type History struct {
	Version int       `json:"version"`
	Series  []*Series `json:"series"`

	index map[SeriesKey]*Series
}

// DefaultHistoryPath is where the history of one kube context lives:
// $XDG_STATE_HOME/opsagent/usage/<context>.json (~/.local/state by default).
func DefaultHistoryPath(kubeContext string) (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home folder for the usage history (%w); name a file with --history", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, cmp.Or(kubeContext, "default"))
	return filepath.Join(dir, "opsagent", "usage", name+".json"), nil
}

// LoadHistoryOf loads the history at path, or at the default path of
// kubeContext when path is empty.
func LoadHistoryOf(kubeContext, path string) (*History, error) {
	if path == "" {
		p, err := DefaultHistoryPath(kubeContext)
		if err != nil {
			return nil, err
		}
		path = p
	}
	return LoadHistory(path)
}

// LoadHistory reads a history file; a missing file is an empty history.
func LoadHistory(path string) (*History, error) {
	h := &History{Version: HistoryVersion}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		h.reindex()
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read usage history: %w", err)
	}
	if err := json.Unmarshal(data, h); err != nil {
		return nil, fmt.Errorf("read usage history %s: %w (move the file away to start a new history)", path, err)
	}
	if h.Version != HistoryVersion {
		return nil, fmt.Errorf("usage history %s has format version %d; this opsagent reads version %d", path, h.Version, HistoryVersion)
	}
	h.reindex()
	return h, nil
}

func (h *History) reindex() {
	h.index = make(map[SeriesKey]*Series, len(h.Series))
	for _, s := range h.Series {
		h.index[s.SeriesKey] = s
	}
}

// Record adds samples. Samples older than MaxDays are ignored.
func (h *History) Record(samples ...Sample) {
	if h.index == nil {
		h.reindex()
	}
	for _, smp := range samples {
		s := h.index[smp.Key]
		if s == nil {
			s = &Series{SeriesKey: smp.Key}
			h.index[smp.Key] = s
			h.Series = append(h.Series, s)
		}
		t := smp.Time.UTC()
		if t.After(s.LastSeen) {
			s.LastSeen = t
		}
		date := t.Format(time.DateOnly)
		i, found := slices.BinarySearchFunc(s.Days, date, func(d *Day, date string) int { return cmp.Compare(d.Date, date) })
		if !found {
			s.Days = slices.Insert(s.Days, i, &Day{Date: date, First: t, Last: t})
		}
		d := s.Days[i]
		d.Samples++
		if t.Before(d.First) {
			d.First = t
		}
		if t.After(d.Last) {
			d.Last = t
		}
		d.CPU.add(smp.CPUMilli, cpuBase)
		d.Memory.add(smp.MemoryBytes, memBase)
	}
}

func (hg *Histogram) add(v int64, base float64) {
	if hg.Buckets == nil {
		hg.Buckets = map[int]int{}
	}
	hg.Buckets[bucketOf(v, base)]++
	hg.Max = max(hg.Max, v)
}

// bucketOf is the first bucket whose upper bound holds v.
func bucketOf(v int64, base float64) int {
	if float64(v) <= base {
		return 0
	}
	return int(math.Ceil(math.Log(float64(v)/base) / math.Log(bucketRatio)))
}

func bucketUpper(i int, base float64) int64 {
	return int64(math.Ceil(base * math.Pow(bucketRatio, float64(i))))
}

// Save prunes the history to its bounds as of now and writes it atomically
// (a reader never sees half a file).
func (h *History) Save(path string, now time.Time) error {
	h.prune(now)
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write usage history: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".history-*")
	if err != nil {
		return fmt.Errorf("write usage history: %w", err)
	}
	// After a successful rename the temporary name is gone: this removal
	// only cleans up a failed write, and its own error adds nothing.
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write usage history: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write usage history: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// prune drops days older than MaxDays and, beyond MaxSeries, the series
// seen least recently.
func (h *History) prune(now time.Time) {
	oldest := now.UTC().AddDate(0, 0, -MaxDays).Format(time.DateOnly)
	h.Series = slices.DeleteFunc(h.Series, func(s *Series) bool {
		s.Days = slices.DeleteFunc(s.Days, func(d *Day) bool { return d.Date < oldest })
		return len(s.Days) == 0
	})
	if len(h.Series) > MaxSeries {
		slices.SortFunc(h.Series, func(a, b *Series) int { return b.LastSeen.Compare(a.LastSeen) })
		h.Series = h.Series[:MaxSeries]
	}
	h.reindex()
}

// Stats are percentiles and peaks over a window.
type Stats struct {
	P50 int64 `json:"p50"`
	P90 int64 `json:"p90"`
	P95 int64 `json:"p95"`
	P99 int64 `json:"p99"`
	Max int64 `json:"max"`
}

// WindowStats summarises one series over the days that overlap [from, to]:
// sample count, time span and percentiles (bucket upper bounds, capped at
// the exact peak, so never below the true value).
func (h *History) WindowStats(key SeriesKey, from, to time.Time) (samples int, first, last time.Time, cpu, mem Stats, ok bool) {
	s := h.index[key]
	if s == nil {
		return 0, time.Time{}, time.Time{}, Stats{}, Stats{}, false
	}
	var cpuH, memH Histogram
	for _, d := range s.Days {
		if d.Last.Before(from) || d.First.After(to) {
			continue
		}
		samples += d.Samples
		if first.IsZero() || d.First.Before(first) {
			first = d.First
		}
		last = maxTime(last, d.Last)
		cpuH.merge(&d.CPU)
		memH.merge(&d.Memory)
	}
	if samples == 0 {
		return 0, time.Time{}, time.Time{}, Stats{}, Stats{}, false
	}
	return samples, first, last, cpuH.stats(cpuBase), memH.stats(memBase), true
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (hg *Histogram) merge(o *Histogram) {
	if hg.Buckets == nil {
		hg.Buckets = map[int]int{}
	}
	for b, n := range o.Buckets {
		hg.Buckets[b] += n
	}
	hg.Max = max(hg.Max, o.Max)
}

func (hg *Histogram) stats(base float64) Stats {
	idx := make([]int, 0, len(hg.Buckets))
	total := 0
	for b, n := range hg.Buckets {
		idx = append(idx, b)
		total += n
	}
	slices.Sort(idx)
	q := func(p float64) int64 {
		need := int(math.Ceil(p * float64(total)))
		seen := 0
		for _, b := range idx {
			seen += hg.Buckets[b]
			if seen >= need {
				return min(bucketUpper(b, base), hg.Max)
			}
		}
		return hg.Max
	}
	return Stats{P50: q(0.50), P90: q(0.90), P95: q(0.95), P99: q(0.99), Max: hg.Max}
}

// SamplesOf turns a snapshot's usage into history samples, one per running
// container that metrics-server reported: what watch records each interval.
func SamplesOf(s *Snapshot) []Sample {
	var out []Sample
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		w := s.WorkloadOf(p)
		for _, c := range p.Spec.Containers {
			cpu, mem, ok := s.containerUsage(p, c.Name)
			if !ok {
				continue
			}
			out = append(out, Sample{Key: SeriesKey{Namespace: p.Namespace, Kind: w.Kind, Name: w.Name, Container: c.Name},
				Time: s.Time, CPUMilli: cpu, MemoryBytes: mem})
		}
	}
	return out
}

package testcluster

import (
	"net/http"
	"sync"

	"k8s.io/client-go/rest"
)

// Request is one API request a test saw: path, query and Accept header.
type Request struct{ Path, Query, Accept string }

// Recorder records the requests made through the rest.Configs it wraps,
// for tests that check how something reads the cluster (paging, metadata
// only, how many round trips).
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Wrap returns a copy of cfg whose requests r records.
func (r *Recorder) Wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			r.mu.Lock()
			r.reqs = append(r.reqs, Request{req.URL.Path, req.URL.RawQuery, req.Header.Get("Accept")})
			r.mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
	return cfg
}

// Lists returns the recorded requests to path (a collection URL).
func (r *Recorder) Lists(path string) []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Request
	for _, q := range r.reqs {
		if q.Path == path {
			out = append(out, q)
		}
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Package diagnose finds what is wrong in a Kubernetes namespace or cluster
// and says why and how to fix it, without a language model.
//
// The flow is: collect lists every kind the selected analyzers need once per
// scope, in parallel, into a Snapshot (snapshot.go); each Analyzer — one file
// per kind, listed in Analyzers — reads the snapshot and returns Findings; the
// engine (diagnose.go) groups findings under their top-level owner, folds
// identical pod findings together, reads the previous log of failing
// containers with bounded concurrency, redacts Secret values and tokens, and
// sorts the most severe first. Explain (explain.go) gives everything about one
// workload.
//
// Analyzers do no I/O: everything they read is in the snapshot, so adding a
// check never adds an API request.
package diagnose

// Package usage reads what containers use next to what they ask for, and
// turns it into right-sizing recommendations a reviewer can check by hand.
//
// The flow is the diagnose package's: Collect lists everything once per
// scope (pods, their owners, HPAs, and the metrics.k8s.io API that
// metrics-server serves) into a Snapshot; Top and Recommend are pure
// functions of a Snapshot (and, for Recommend, of what a Prometheus server
// reported through PromClient.Fetch and of the local History), so they do
// no I/O and are benchmarked over thousands of pods in-process.
//
// Units are fixed everywhere: CPU in millicores, memory in bytes.
//
// The rules, the history file format and the JSON output are documented in
// docs/usage.md.
package usage

package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opsagent/opsagent/internal/resolve"
)

// Analyzer checks the objects of one kind in a snapshot. It does no I/O.
type Analyzer interface {
	// Kind is the kind it checks, e.g. "Pod".
	Kind() string
	// Needs lists what must be in the snapshot for Analyze to run.
	Needs() []Resource
	// Analyze returns what is wrong with the in-scope objects of its kind.
	Analyze(s *Snapshot) Result
}

// Result is one analyzer's outcome.
type Result struct {
	// Checked is how many objects were examined.
	Checked  int
	Findings []Finding
}

// Analyzers returns every analyzer, in the order their kinds are listed in
// help and reports.
func Analyzers() []Analyzer {
	return []Analyzer{
		podAnalyzer{},
		deploymentAnalyzer{},
		replicaSetAnalyzer{},
		statefulSetAnalyzer{},
		daemonSetAnalyzer{},
		jobAnalyzer{},
		cronJobAnalyzer{},
		serviceAnalyzer{},
		ingressAnalyzer{},
		pvcAnalyzer{},
		nodeAnalyzer{},
		hpaAnalyzer{},
		helmAnalyzer{},
	}
}

// Kinds returns the kinds the analyzers check.
func Kinds() []string {
	var out []string
	for _, a := range Analyzers() {
		out = append(out, a.Kind())
	}
	return out
}

// helmReleaseWords name the HelmRelease analyzer's kind. A Helm release is
// not an API kind, so the shared kind table (internal/resolve) does not
// hold it.
var helmReleaseWords = []string{"helmrelease", "helmreleases", "helm", "release", "releases"}

// canonicalKind maps what people type ("deploy", "pods", "svc", "helm")
// onto an API kind through the shared kind table, or returns it unchanged.
func canonicalKind(word string) string {
	if k, ok := resolve.LookupKind(word); ok {
		return k.Kind
	}
	if slices.Contains(helmReleaseWords, strings.ToLower(strings.TrimSpace(word))) {
		return "HelmRelease"
	}
	return word
}

// ParseKinds turns kind names as people type them ("Pod,svc", "deployments")
// into analyzer kinds, deduplicated, in analyzer order. Entries may hold
// several names separated by commas. No names means every kind.
func ParseKinds(names []string) ([]string, error) {
	want := map[string]bool{}
	for _, n := range names {
		for part := range strings.SplitSeq(n, ",") {
			part = strings.ToLower(strings.TrimSpace(part))
			if part == "" {
				continue
			}
			k := canonicalKind(part)
			if !slices.Contains(Kinds(), k) {
				return nil, fmt.Errorf("unknown kind %q: diagnose checks %s", part, strings.Join(Kinds(), ", "))
			}
			want[k] = true
		}
	}
	all := Kinds()
	if len(want) == 0 {
		return all, nil
	}
	return slices.DeleteFunc(all, func(k string) bool { return !want[k] }), nil
}

func selectAnalyzers(kinds []string) []Analyzer {
	return slices.DeleteFunc(Analyzers(), func(a Analyzer) bool { return !slices.Contains(kinds, a.Kind()) })
}

// workloadNeeds are the lists every analyzer whose findings are grouped
// under an owner needs to follow owner chains.
var workloadNeeds = []Resource{ResReplicaSets, ResDeployments, ResStatefulSets, ResDaemonSets, ResJobs, ResCronJobs}

func needs(extra ...Resource) []Resource {
	return append(slices.Clone(workloadNeeds), extra...)
}

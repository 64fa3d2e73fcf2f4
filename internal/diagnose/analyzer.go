package diagnose

import (
	"fmt"
	"slices"
	"strings"
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

// kindAliases maps what people type onto analyzer kinds (kubectl's plural and
// short names, lower case).
var kindAliases = map[string]string{
	"pod": "Pod", "pods": "Pod", "po": "Pod",
	"deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
	"replicaset": "ReplicaSet", "replicasets": "ReplicaSet", "rs": "ReplicaSet",
	"statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
	"daemonset": "DaemonSet", "daemonsets": "DaemonSet", "ds": "DaemonSet",
	"job": "Job", "jobs": "Job",
	"cronjob": "CronJob", "cronjobs": "CronJob", "cj": "CronJob",
	"service": "Service", "services": "Service", "svc": "Service",
	"ingress": "Ingress", "ingresses": "Ingress", "ing": "Ingress",
	"persistentvolumeclaim": "PersistentVolumeClaim", "persistentvolumeclaims": "PersistentVolumeClaim", "pvc": "PersistentVolumeClaim", "pvcs": "PersistentVolumeClaim",
	"node": "Node", "nodes": "Node", "no": "Node",
	"horizontalpodautoscaler": "HorizontalPodAutoscaler", "horizontalpodautoscalers": "HorizontalPodAutoscaler", "hpa": "HorizontalPodAutoscaler", "hpas": "HorizontalPodAutoscaler",
	"helmrelease": "HelmRelease", "helmreleases": "HelmRelease", "helm": "HelmRelease", "release": "HelmRelease", "releases": "HelmRelease",
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
			k, ok := kindAliases[part]
			if !ok {
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

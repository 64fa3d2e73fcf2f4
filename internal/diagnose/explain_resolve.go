package diagnose

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/resolve"
	"github.com/opsagent/opsagent/internal/tools"
)

// Resolution: which object a name given to explain refers to, through the
// shared resolver (internal/resolve).

// explainKinds are the kinds explain resolves, by alias.
var explainKinds = []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet"}

// resolve finds the object name refers to in the snapshot's namespace.
func (s *Snapshot) resolve(name, kind string) (ObjectRef, error) {
	if k, n := resolve.SplitKind(name); k != "" {
		if kind != "" && !strings.EqualFold(canonicalKind(kind), canonicalKind(k)) {
			return ObjectRef{}, fmt.Errorf("%w: name %q says %s but kind is %s", tools.ErrInvalidArgs, name, k, kind)
		}
		kind, name = k, n
	}
	name = strings.TrimSpace(name)
	kinds := explainKinds
	if kind != "" {
		k, err := ParseExplainKind(kind)
		if err != nil {
			return ObjectRef{}, fmt.Errorf("%w: %v", tools.ErrInvalidArgs, err)
		}
		kinds = []string{k}
	}
	cands := s.candidates(kinds)
	rc := make([]resolve.Candidate, len(cands))
	for i, c := range cands {
		// Workloads first, then pods and ReplicaSets; objects another
		// workload owns (a CronJob's Jobs) only by their exact name.
		rank := 0
		switch {
		case c.child && c.ref.Kind != "Pod" && c.ref.Kind != "ReplicaSet":
			rank = resolve.ExactOnly
		case c.ref.Kind == "Pod" || c.ref.Kind == "ReplicaSet":
			rank = 1
		}
		rc[i] = resolve.Candidate{Kind: c.ref.Kind, Name: c.ref.Name, Labels: c.labels, Rank: rank}
	}
	got, err := resolve.Pick(name, rc, resolve.Where{Noun: "pod or workload", Listed: "workloads", In: "namespace " + s.scope.namespace})
	if err != nil {
		return ObjectRef{}, err
	}
	i := slices.IndexFunc(cands, func(c candidate) bool { return c.ref.Kind == got.Kind && c.ref.Name == got.Name })
	return cands[i].ref, nil
}

type candidate struct {
	ref    ObjectRef
	labels map[string]string
	// child is set for objects owned by another workload (a CronJob's Jobs).
	child bool
}

// candidates are the snapshot's objects of kinds, in eachObject's order.
func (s *Snapshot) candidates(kinds []string) []candidate {
	var out []candidate
	s.eachObject(func(kind string, m *metav1.ObjectMeta) {
		if slices.Contains(kinds, kind) {
			out = append(out, candidate{ref: refOf(kind, m), labels: m.Labels, child: metav1.GetControllerOfNoCopy(m) != nil})
		}
	})
	return out
}

// ParseExplainKind checks a kind explain can work on ("deploy", "pods",
// "StatefulSet") and returns its canonical name.
func ParseExplainKind(k string) (string, error) {
	c := canonicalKind(k)
	if !slices.Contains(explainKinds, c) {
		return "", fmt.Errorf("explain works on %s, not %q", strings.ToLower(strings.Join(explainKinds, ", ")), k)
	}
	return c, nil
}

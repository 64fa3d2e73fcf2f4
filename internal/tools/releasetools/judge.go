package releasetools

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
)

// judgement is what the gate needs to know about a Helm mutation beyond its
// text: the objects it touches and why it needs --allow-privileged.
type judgement struct {
	targets    []tools.Target
	privileged []string
}

// judge lists every resource as a target (Namespace "" for cluster-scoped
// kinds, which the gate treats as privileged itself) and classifies each
// one, hooks included, with tools.ClassifyObject: creating, changing or
// deleting an RBAC object, a webhook or a privileged pod needs the opt-in.
func judge(rs []release.Resource) judgement {
	var j judgement
	for _, r := range rs {
		t := tools.Target{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
		if !slices.Contains(j.targets, t) {
			j.targets = append(j.targets, t)
		}
		for _, why := range tools.ClassifyObject(&unstructured.Unstructured{Object: r.Content}) {
			if !slices.Contains(j.privileged, why) {
				j.privileged = append(j.privileged, why)
			}
		}
	}
	return j
}

// orRecord makes sure the judgement names a target: when the operation
// touches no object (a chart that renders nothing, a release whose objects
// are all kept), the change is the release's own record, the Secret Helm
// stores revision rev in.
func (j judgement) orRecord(name, namespace string, rev int) judgement {
	if len(j.targets) == 0 {
		j.targets = []tools.Target{{Kind: "Secret", Namespace: namespace, Name: fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, rev)}}
	}
	return j
}

// apply copies the judgement into a preview.
func (j judgement) apply(p *tools.Preview) {
	p.Targets = j.targets
	p.Privileged = j.privileged
}

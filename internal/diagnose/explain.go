package diagnose

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opsagent/opsagent/internal/resolve"
	"k8s.io/apimachinery/pkg/types"
)

// Bounds of one explanation.
const (
	maxExplainPods     = 10
	maxExplainEvents   = 20
	maxExplainLogs     = 5
	maxExplainRevs     = 10
	maxExplainFailing  = 20
	explainLogsPerPods = 30
)

// ExplainOptions name what to explain.
type ExplainOptions struct {
	Namespace string
	// Name of a pod or workload; "deployment/backend" and short names
	// ("backend" for todo-backend) work.
	Name string
	// Kind, optional: pod, deployment, statefulset, daemonset, job, cronjob
	// or replicaset (kubectl's short names work too).
	Kind string
	Logs LogOptions
	Now  time.Time
}

func (o ExplainOptions) scope() (scope, error) {
	if o.Namespace == "" {
		return scope{}, fmt.Errorf("%w: a namespace is required", ErrInvalidOptions)
	}
	if err := resolve.CheckNamespace(o.Namespace); err != nil {
		return scope{}, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
	}
	return scope{namespace: o.Namespace, includeSystem: true, allEvents: true, wholePods: true}, nil
}

// explainNeeds is what explain lists: everything a namespace-scoped
// diagnosis reads.
func explainNeeds() []Resource {
	seen := map[Resource]bool{}
	var out []Resource
	for _, a := range Analyzers() {
		for _, r := range a.Needs() {
			if !seen[r] && r != ResNodes {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// Explain gathers everything about why one pod or workload fails: status,
// events, the previous log of failing containers, config references, owner
// chain and rollout history, then the cause and the fix. An unknown or
// ambiguous name is an error wrapping tools.ErrNotFound or
// tools.ErrAmbiguous that lists the candidates.
func (d *Diagnoser) Explain(ctx context.Context, o ExplainOptions) (*ExplainReport, error) {
	sc, err := o.scope()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(o.Name) == "" {
		return nil, fmt.Errorf("%w: a name is required", ErrInvalidOptions)
	}
	s, _, err := collect(ctx, d, plan{now: nowOr(o.Now), scope: sc, need: explainNeeds()})
	if err != nil {
		return nil, fmt.Errorf("read namespace %s: %w", o.Namespace, err)
	}
	target, err := s.resolve(o.Name, o.Kind)
	if err != nil {
		return nil, err
	}
	findings := s.allFindings()
	rep := s.explain(target, findings)
	lo := o.Logs.withDefaults()
	if !o.Logs.Disabled {
		attachExplainLogs(ctx, d.client, s.redactor, []*ExplainReport{rep}, lo)
	}
	redactExplain(s.redactor, rep)
	return rep, nil
}

// ExplainFailing explains every failing pod in a namespace (at most 20).
func (d *Diagnoser) ExplainFailing(ctx context.Context, o ExplainOptions) (*ExplainList, error) {
	sc, err := o.scope()
	if err != nil {
		return nil, err
	}
	s, _, err := collect(ctx, d, plan{now: nowOr(o.Now), scope: sc, need: explainNeeds()})
	if err != nil {
		return nil, fmt.Errorf("read namespace %s: %w", o.Namespace, err)
	}
	findings := s.allFindings()
	list := &ExplainList{APIVersion: APIVersion, Kind: KindExplainList, Namespace: o.Namespace, Items: []ExplainReport{}}
	seen := map[types.UID]bool{}
	var pods []ObjectRef
	for _, f := range findings {
		if f.Object.Kind == "Pod" && !seen[f.Object.UID] {
			seen[f.Object.UID] = true
			pods = append(pods, f.Object)
		}
	}
	slices.SortFunc(pods, func(a, b ObjectRef) int { return cmp.Compare(a.Name, b.Name) })
	if len(pods) > maxExplainFailing {
		list.Omitted = len(pods) - maxExplainFailing
		pods = pods[:maxExplainFailing]
	}
	reps := make([]*ExplainReport, len(pods))
	for i, p := range pods {
		reps[i] = s.explain(p, findings)
	}
	if !o.Logs.Disabled {
		lo := o.Logs.withDefaults()
		lo.MaxFetches = explainLogsPerPods
		attachExplainLogs(ctx, d.client, s.redactor, reps, lo)
	}
	for _, r := range reps {
		redactExplain(s.redactor, r)
		list.Items = append(list.Items, *r)
	}
	list.Healthy = len(list.Items) == 0
	return list, nil
}

func nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// allFindings runs every analyzer on the snapshot, without folding.
func (s *Snapshot) allFindings() []Finding {
	var out []Finding
	for _, a := range Analyzers() {
		out = append(out, a.Analyze(s).Findings...)
	}
	return out
}

// Package usagetools makes right-sizing reachable as an agent tool:
// recommend_resources reads usage next to requests and limits (internal/usage)
// and answers, per container, what to change with its evidence. It changes
// nothing itself: each recommendation carries the gate call that would apply
// it — set_resources for a plain workload, a helm_deploy of the release's
// values for a workload the built-in chart manages — so applying goes
// through the one gate like any other change.
package usagetools

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
	"github.com/opsagent/opsagent/internal/usage"
)

// NameRecommend is the tool's name: part of the contract with the planner.
const NameRecommend = "recommend_resources"

// MaxRecommendations bounds what a model reads per call.
const MaxRecommendations = 20

// New returns the usage tools, bound to the clients of one context.
func New(c *kube.Clients) []tools.Tool {
	return []tools.Tool{Recommend(c)}
}

// RecommendArgs are recommend_resources' arguments.
type RecommendArgs struct {
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Validate implements tools.Validator.
func (a RecommendArgs) Validate() error {
	if err := kubetools.CheckNamespace(a.Namespace); err != nil {
		return err
	}
	if len(a.Name) > validation.DNS1123SubdomainMaxLength {
		return fmt.Errorf("name is %d characters, more than a Kubernetes name can have", len(a.Name))
	}
	return nil
}

// Recommend declares recommend_resources.
func Recommend(c *kube.Clients) tools.Tool {
	return tools.Define(NameRecommend,
		"Right-size CPU/memory from usage.",
		tools.Read,
		func(ctx context.Context, a RecommendArgs) (tools.Action, error) {
			return tools.ReadResult(func(ctx context.Context) (any, error) {
				req := Request{Namespace: kubetools.NamespaceFor(c, a.Namespace), Name: a.Name, Max: MaxRecommendations}
				// The same sources as `opsagent recommend`: Prometheus when
				// $OPSAGENT_PROMETHEUS_URL names one, the local history
				// watch keeps, then one metrics-server snapshot.
				var err error
				if req.Prometheus, err = PrometheusFromEnv(os.Getenv); err != nil {
					return nil, err
				}
				if req.Options.History, err = usage.LoadHistoryOf(c.Context, ""); err != nil {
					return nil, err
				}
				return Run(ctx, c, req)
			}), nil
		})
}

// EnvPrometheusURL names the Prometheus recommend reads when no flag names
// one (a URL with credentials stays out of the process's arguments).
const EnvPrometheusURL = "OPSAGENT_PROMETHEUS_URL"

// PrometheusFromEnv returns the client of the Prometheus $OPSAGENT_PROMETHEUS_URL
// names, or nil when it is unset.
func PrometheusFromEnv(getenv func(string) string) (*usage.PromClient, error) {
	raw := getenv(EnvPrometheusURL)
	if raw == "" {
		return nil, nil
	}
	p, err := usage.NewPromClient(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", EnvPrometheusURL, err)
	}
	return p, nil
}

// Request is one recommendation run, for the tool and the CLI alike.
type Request struct {
	// Namespace "" with AllNamespaces for every namespace.
	Namespace     string
	AllNamespaces bool
	Selector      string
	// Name narrows the answer to one workload ("backend" finds
	// todo-chatbot-backend, as every tool resolves names).
	Name    string
	Options usage.Options
	// Prometheus, when set, is read first (over Options.Window); one that
	// cannot answer is an error, not a quiet fallback to figures nobody
	// asked for.
	Prometheus *usage.PromClient
	// Max caps the recommendations returned (0: all), the most pressing
	// (undersized, then oversized) first.
	Max int
}

// Result is a usage.Report with, for each recommendation that changes
// something, the gate call that applies it.
type Result struct {
	*usage.Report
	// Apply lists the calls, in the order of Recommendations.
	Apply []Call `json:"apply,omitempty"`
}

// Call is one tool call through the gate, or why there is none.
type Call struct {
	Namespace string          `json:"namespace"`
	Workload  string          `json:"workload"`
	Container string          `json:"container"`
	Tool      string          `json:"tool,omitempty"`
	Args      json.RawMessage `json:"args,omitempty"`
	// Note says why no call applies it, or how the Helm path differs.
	Note string `json:"note,omitempty"`
}

// Run collects, recommends and attaches the apply calls.
func Run(ctx context.Context, c *kube.Clients, req Request) (*Result, error) {
	ns := req.Namespace
	if req.AllNamespaces {
		ns = ""
	}
	var only *usage.Workload
	if req.Name != "" {
		w, err := resolveWorkload(ctx, c, ns, req.Name)
		if err != nil {
			return nil, err
		}
		only = &w
	}
	opts := req.Options
	opts.Only = only
	if req.Prometheus != nil {
		u, err := req.Prometheus.Fetch(ctx, usage.PromQuery{Namespace: ns, Window: cmp.Or(opts.Window, usage.DefaultWindow)})
		if err != nil {
			return nil, fmt.Errorf("read usage from Prometheus: %w; or unset --prometheus-url and $%s to size from the local history", err, EnvPrometheusURL)
		}
		opts.Prometheus = u
	}
	snap, err := usage.Collect(ctx, c.Config, c.Typed, usage.Scope{Namespace: ns, Selector: req.Selector})
	if err != nil {
		return nil, err
	}
	rep := usage.Recommend(snap, opts)
	if only != nil {
		if len(rep.Recommendations) == 0 {
			return nil, fmt.Errorf("%s %s has no running pods to size in %s; check it with rollout_status", strings.ToLower(only.Kind), only.Name, ns)
		}
	}
	if req.Max > 0 && len(rep.Recommendations) > req.Max {
		slices.SortStableFunc(rep.Recommendations, func(a, b usage.Recommendation) int { return rank(a.Verdict) - rank(b.Verdict) })
		rep.Notes = append(rep.Notes, fmt.Sprintf("showing %d of %d containers, the ones to change first; name a workload for the rest", req.Max, len(rep.Recommendations)))
		rep.Recommendations = rep.Recommendations[:req.Max]
	}
	res := &Result{Report: rep}
	for _, r := range rep.Recommendations {
		if call, ok := ApplyCall(r); ok {
			res.Apply = append(res.Apply, call)
		}
	}
	return res, nil
}

func rank(v usage.Verdict) int {
	return map[usage.Verdict]int{usage.VerdictUndersized: 0, usage.VerdictOversized: 1, usage.VerdictNoUsage: 2, usage.VerdictRightSized: 3}[v]
}

// resolveWorkload finds the workload a name refers to, among the kinds
// set_resources changes.
func resolveWorkload(ctx context.Context, c *kube.Clients, ns, name string) (usage.Workload, error) {
	if ns == "" {
		return usage.Workload{}, fmt.Errorf("%w: name a namespace with the workload, or leave the workload out for all namespaces", tools.ErrInvalidArgs)
	}
	for _, kind := range []string{"deployment", "statefulset", "daemonset"} {
		k, err := kubetools.ResolveKind(c.Mapper, kind)
		if err != nil {
			return usage.Workload{}, err
		}
		obj, err := kubetools.ResolveObject(ctx, c, k, ns, name)
		switch {
		case err == nil:
			return usage.Workload{Kind: obj.GetKind(), Name: obj.GetName()}, nil
		case !errors.Is(err, tools.ErrNotFound):
			return usage.Workload{}, err // ambiguous, or the API failed
		}
	}
	return usage.Workload{}, fmt.Errorf("%w: no deployment, statefulset or daemonset %q in namespace %s; list them with list_resources", tools.ErrNotFound, name, ns)
}

// builtinChart is the chart whose values layout is known: each component's
// main container is sized by <component>.resources.
const builtinChart = "todo-chatbot"

// ApplyCall is the gate call that applies one recommendation: a
// helm_deploy that changes only the release's values for a workload of the
// built-in chart (so the next upgrade keeps it), else set_resources. ok is
// false when the recommendation changes nothing.
func ApplyCall(r usage.Recommendation) (Call, bool) {
	if r.Apply == nil && len(r.Changes) == 0 {
		return Call{}, false
	}
	call := Call{Namespace: r.Namespace, Workload: strings.ToLower(r.Workload.Kind) + "/" + r.Workload.Name, Container: r.Container}
	switch {
	case r.Apply == nil:
		call.Note = fmt.Sprintf("a %s is not changed in place: change the resources where it is created", r.Workload.Kind)
		return call, true
	case r.Workload.HelmRelease != "" && strings.HasPrefix(r.Workload.HelmChart, builtinChart+"-") && r.Workload.Component != "":
		prefix := r.Workload.Component + ".resources."
		var set []string
		for _, kv := range []struct{ key, v string }{
			{"requests.cpu", r.Apply.RequestsCPU}, {"requests.memory", r.Apply.RequestsMemory},
			{"limits.cpu", r.Apply.LimitsCPU}, {"limits.memory", r.Apply.LimitsMemory},
		} {
			if kv.v != "" {
				set = append(set, prefix+kv.key+"="+kv.v)
			}
		}
		args := releasetools.DeployArgs{Release: r.Workload.HelmRelease, Namespace: r.Namespace, ReuseValues: true, ValuesSet: set}
		call.Tool, call.Args = releasetools.NameDeploy, mustJSON(args)
		call.Note = fmt.Sprintf("managed by Helm release %s: the change goes into its values (previewed as an upgrade diff), so the next upgrade keeps it", r.Workload.HelmRelease)
	case r.Workload.HelmRelease != "":
		// Another chart: its values layout is unknown, so change the
		// workload and say the next upgrade will undo it.
		call.Tool, call.Args = kubetools.NameSetResources, setResourcesArgs(r)
		call.Note = fmt.Sprintf("managed by Helm release %s (chart %s): set_resources changes the workload, and the next helm upgrade resets it unless the chart's values change too", r.Workload.HelmRelease, r.Workload.HelmChart)
	default:
		call.Tool, call.Args = kubetools.NameSetResources, setResourcesArgs(r)
	}
	return call, true
}

func setResourcesArgs(r usage.Recommendation) json.RawMessage {
	return mustJSON(kubetools.SetResourcesArgs{
		Kind: strings.ToLower(r.Workload.Kind), Name: r.Workload.Name, Namespace: r.Namespace, Container: r.Container,
		RequestsCPU: r.Apply.RequestsCPU, RequestsMemory: r.Apply.RequestsMemory,
		LimitsCPU: r.Apply.LimitsCPU, LimitsMemory: r.Apply.LimitsMemory,
	})
}

func mustJSON(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // plain structs always encode
	}
	return data
}

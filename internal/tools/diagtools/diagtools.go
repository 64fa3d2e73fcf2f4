// Package diagtools makes diagnose and explain reachable as agent tools, so
// that "what's wrong with my cluster?" and "why is the backend failing?" get
// the same rule-based diagnosis in LLM mode and in the no-key planner.
// Results are capped for a model's context and carry no Secret values
// (diagnose redacts them before anything leaves it).
package diagtools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// Tool names: part of the contract with the planner and the prompts.
const (
	NameDiagnose = "diagnose"
	NameExplain  = "explain"
)

// Result bounds: what a model reads per call.
const (
	MaxFindings      = 20
	MaxLogLines      = 10
	maxExplainFind   = 10
	maxExplainEvents = 10
	maxNameLen       = 253
)

// New returns the diagnosis tools, bound to the clients of one context.
func New(c *kube.Clients) []tools.Tool {
	return []tools.Tool{Diagnose(c), Explain(c)}
}

// DiagnoseArgs are diagnose's arguments.
type DiagnoseArgs struct {
	Namespace     string   `json:"namespace,omitempty" description:"Namespace"`
	AllNamespaces bool     `json:"all_namespaces,omitempty" description:"All namespaces"`
	Selector      string   `json:"selector,omitempty" description:"Label selector"`
	Kinds         []string `json:"kinds,omitempty" description:"Only these kinds"`
	Name          string   `json:"name,omitempty" description:"Only this workload or object"`
}

// Validate implements tools.Validator.
func (a DiagnoseArgs) Validate() error {
	if err := kubetools.CheckNamespace(a.Namespace); err != nil {
		return err
	}
	if a.Namespace != "" && a.AllNamespaces {
		return errors.New("give namespace or all_namespaces, not both")
	}
	if a.Selector != "" {
		if _, err := labels.Parse(a.Selector); err != nil {
			return fmt.Errorf("selector %q: %v", a.Selector, err)
		}
	}
	if len(a.Name) > maxNameLen {
		return fmt.Errorf("name is %d characters, more than a Kubernetes name can have", len(a.Name))
	}
	_, err := diagnose.ParseKinds(a.Kinds)
	return err
}

// Diagnose declares the diagnose tool.
func Diagnose(c *kube.Clients) tools.Tool {
	return tools.Define(NameDiagnose,
		"Find problems, with evidence, cause and fix.",
		tools.Read,
		func(ctx context.Context, a DiagnoseArgs) (tools.Action, error) {
			return tools.ReadResult(func(ctx context.Context) (any, error) { return runDiagnose(ctx, c, a) }), nil
		})
}

func runDiagnose(ctx context.Context, c *kube.Clients, a DiagnoseArgs) (*diagnose.Report, error) {
	d, err := diagnoser(c)
	if err != nil {
		return nil, err
	}
	rep, err := d.Diagnose(ctx, diagnose.Options{
		Namespace: namespaceFor(c, a.Namespace), AllNamespaces: a.AllNamespaces, NamespaceExplicit: a.Namespace != "",
		Selector: a.Selector, Kinds: a.Kinds, Name: a.Name,
		Logs: diagnose.LogOptions{MaxFetches: MaxFindings, Lines: MaxLogLines},
	})
	if err != nil {
		return nil, mapErr(err)
	}
	rep.Cap(MaxFindings)
	return rep, nil
}

// ExplainArgs are explain's arguments.
type ExplainArgs struct {
	Name      string `json:"name" description:"Pod or workload name"`
	Kind      string `json:"kind,omitempty" enum:"pod,deployment,statefulset,daemonset,job,cronjob,replicaset" description:"Kind (optional)"`
	Namespace string `json:"namespace,omitempty" description:"Namespace; defaults to the current namespace"`
}

// Validate implements tools.Validator.
func (a ExplainArgs) Validate() error {
	switch n := strings.TrimSpace(a.Name); {
	case n == "":
		return errors.New("name is required")
	case len(n) > maxNameLen:
		return fmt.Errorf("name is %d characters, more than a Kubernetes name can have", len(n))
	}
	if a.Kind != "" {
		if _, err := diagnose.ParseExplainKind(a.Kind); err != nil {
			return err
		}
	}
	return kubetools.CheckNamespace(a.Namespace)
}

// Explain declares the explain tool.
func Explain(c *kube.Clients) tools.Tool {
	return tools.Define(NameExplain,
		"Why one pod or workload fails, with cause and fix.",
		tools.Read,
		func(ctx context.Context, a ExplainArgs) (tools.Action, error) {
			return tools.ReadResult(func(ctx context.Context) (any, error) { return runExplain(ctx, c, a) }), nil
		})
}

func runExplain(ctx context.Context, c *kube.Clients, a ExplainArgs) (*diagnose.ExplainReport, error) {
	d, err := diagnoser(c)
	if err != nil {
		return nil, err
	}
	rep, err := d.Explain(ctx, diagnose.ExplainOptions{
		Namespace: namespaceFor(c, a.Namespace), Name: a.Name, Kind: a.Kind,
		Logs: diagnose.LogOptions{Lines: MaxLogLines},
	})
	if err != nil {
		return nil, mapErr(err)
	}
	if len(rep.Findings) > maxExplainFind {
		rep.Findings = rep.Findings[:maxExplainFind]
	}
	if len(rep.Events) > maxExplainEvents {
		rep.Events = rep.Events[:maxExplainEvents]
	}
	return rep, nil
}

func diagnoser(c *kube.Clients) (*diagnose.Diagnoser, error) {
	if c == nil || c.Config == nil {
		return nil, errors.New("no Kubernetes connection configured")
	}
	return diagnose.New(c)
}

// mapErr makes option errors bad input for the gate and the CLI.
func mapErr(err error) error {
	if errors.Is(err, diagnose.ErrInvalidOptions) && !errors.Is(err, tools.ErrInvalidArgs) {
		return fmt.Errorf("%w: %v", tools.ErrInvalidArgs, err)
	}
	return err
}

// namespaceFor is the namespace a call works in: the same rule as every
// other tool's.
var namespaceFor = kubetools.NamespaceFor

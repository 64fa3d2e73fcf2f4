package releasetools

import (
	"context"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
)

// ReleaseArgs name one release; helm_status and helm_history take them.
type ReleaseArgs struct {
	Release   string `json:"release,omitempty" description:"Default todo-chatbot"`
	Namespace string `json:"namespace,omitempty" description:"Namespace; defaults to the current namespace"`
}

// Validate implements tools.Validator.
func (a ReleaseArgs) Validate() error {
	if err := checkRelease(a.Release); err != nil {
		return err
	}
	return kubetools.CheckNamespace(a.Namespace)
}

// HistoryResult is helm_history's result.
type HistoryResult struct {
	Release   string            `json:"release"`
	Namespace string            `json:"namespace"`
	Revisions []release.Release `json:"revisions"`
}

// Status declares helm_status.
func Status(d Deps) tools.Tool {
	return tools.Define(NameStatus,
		"A Helm release's status and objects.",
		tools.Read,
		func(_ context.Context, a ReleaseArgs) (tools.Action, error) {
			return tools.ReadResult(func(ctx context.Context) (any, error) {
				c, err := d.client(a.Namespace)
				if err != nil {
					return nil, err
				}
				st, err := c.Status(ctx, a.Release)
				return st, classify(err)
			}), nil
		})
}

// History declares helm_history.
func History(d Deps) tools.Tool {
	return tools.Define(NameHistory,
		"A Helm release's revisions.",
		tools.Read,
		func(_ context.Context, a ReleaseArgs) (tools.Action, error) {
			return tools.ReadResult(func(ctx context.Context) (any, error) {
				c, err := d.client(a.Namespace)
				if err != nil {
					return nil, err
				}
				revs, err := c.History(ctx, a.Release)
				if err != nil {
					return nil, classify(err)
				}
				return &HistoryResult{Release: releaseOrDefault(a.Release), Namespace: c.Namespace(), Revisions: revs}, nil
			}), nil
		})
}

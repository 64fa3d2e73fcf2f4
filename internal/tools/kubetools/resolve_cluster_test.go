package kubetools

import (
	"errors"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/diagnose"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/toolstest"
)

// A name resolves to the same object whether a request explains it
// (diagnose) or changes it (scale_workload): both go through
// internal/resolve. Before they shared it, "Todo Chatbot Backend" and
// "chatbot-…" names resolved in one and not the other.
func TestClusterExplainAndScaleResolveAlike(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	for _, name := range []string{"todo-chatbot-backend", "todo-chatbot-frontend", "shop-web", "blog-web"} {
		e.createDeployment(t, deploySpec{name: name, replicas: 1, noWait: true})
	}
	d, err := diagnose.New(e.c)
	if err != nil {
		t.Fatal(err)
	}
	dryRun := &tools.Gate{Registry: e.gate.Registry, Approver: e.gate.Approver, Scope: e.gate.Scope, DryRun: true}
	tests := []struct {
		query   string
		want    string // "deployment/<name>", or the error kind below
		wantErr error
	}{
		{query: "backend", want: "deployment/todo-chatbot-backend"},
		{query: "Todo Chatbot Backend", want: "deployment/todo-chatbot-backend"},
		{query: "chatbot-frontend", want: "deployment/todo-chatbot-frontend"},
		{query: "deploy/backend", want: "deployment/todo-chatbot-backend"},
		{query: "chatbot", wantErr: tools.ErrAmbiguous},
		{query: "web", wantErr: tools.ErrAmbiguous},
		{query: "cache", wantErr: tools.ErrNotFound},
	}
	for _, tt := range tests {
		rep, explainErr := d.Explain(t.Context(), diagnose.ExplainOptions{Namespace: e.Namespace, Name: tt.query})
		rec := toolstest.Call(t, dryRun, NameScaleWorkload, map[string]any{"name": tt.query, "replicas": 2})
		if tt.wantErr != nil {
			if !errors.Is(explainErr, tt.wantErr) || !errors.Is(rec.Err(), tt.wantErr) {
				t.Errorf("%q: explain error %v, scale error %v; want both %v", tt.query, explainErr, rec.Err(), tt.wantErr)
			}
			continue
		}
		if explainErr != nil || rec.Err() != nil {
			t.Errorf("%q: explain error %v, scale error %v", tt.query, explainErr, rec.Err())
			continue
		}
		explained := strings.ToLower(rep.Target.Kind) + "/" + rep.Target.Name
		scaled := strings.ToLower(rec.Preview.Targets[0].Kind) + "/" + rec.Preview.Targets[0].Name
		if explained != tt.want || scaled != tt.want {
			t.Errorf("%q: explain resolved %s, scale %s; want both %s", tt.query, explained, scaled, tt.want)
		}
	}
}

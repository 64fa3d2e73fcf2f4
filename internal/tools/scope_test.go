package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// effectTool is a mutation whose preview the test chooses: its targets,
// raised risk and privilege reasons.
type effectTool struct {
	plan    Preview
	runs    int
	replans int
	// conflicts is how many runs fail with ErrConflict before one succeeds.
	conflicts int
}

type noArgs struct{}

func (e *effectTool) tool(declared Risk) Tool {
	return Define("effect", "a change with chosen effects", declared, func(context.Context, noArgs) (Action, error) {
		e.replans++
		return Mutation{Plan: e.plan, Apply: func(context.Context) (any, error) {
			e.runs++
			if e.conflicts > 0 {
				e.conflicts--
				return nil, ErrConflict
			}
			return "done", nil
		}}, nil
	})
}

func TestPolicyRiskAndScope(t *testing.T) {
	inScope := []Target{{Kind: "Deployment", Namespace: "todo", Name: "backend"}}
	yes := Policy{AssumeYes: true}
	tests := []struct {
		name     string
		declared Risk
		plan     Preview
		scope    Scope
		policy   Policy
		asked    bool // the terminal answers yes; was it asked?
		wantErr  error
		wantMsg  string
		wantRisk Risk
	}{
		{name: "write in scope, --yes", declared: Write, plan: Preview{Summary: "s", Targets: inScope}, scope: Scope{Namespace: "todo"}, policy: yes, wantRisk: Write},
		{name: "write in another namespace, --yes, no terminal", declared: Write, scope: Scope{Namespace: "todo"}, policy: yes,
			plan:    Preview{Summary: "s", Targets: []Target{{Kind: "Deployment", Namespace: "kube-system", Name: "coredns"}}},
			wantErr: ErrApprovalRequired, wantMsg: "-n kube-system", wantRisk: Write},
		{name: "write in another namespace, terminal asked", declared: Write, scope: Scope{Namespace: "todo"}, asked: true,
			plan:   Preview{Summary: "s", Targets: []Target{{Kind: "Deployment", Namespace: "kube-system", Name: "coredns"}}},
			policy: Policy{AssumeYes: true}, wantRisk: Write},
		{name: "no targets fails closed", declared: Write, plan: Preview{Summary: "s"}, scope: Scope{Namespace: "todo"}, policy: yes,
			wantErr: ErrApprovalRequired, wantMsg: "does not say which objects", wantRisk: Write},
		{name: "zero scope covers nothing", declared: Write, plan: Preview{Summary: "s", Targets: inScope}, policy: yes,
			wantErr: ErrApprovalRequired, wantRisk: Write},
		{name: "preview raises to destructive", declared: Write, plan: Preview{Summary: "s", Targets: inScope, Risk: Destructive}, scope: Scope{Namespace: "todo"}, policy: yes,
			wantErr: ErrApprovalRequired, wantMsg: "--allow-destructive", wantRisk: Destructive},
		{name: "preview cannot lower risk", declared: Destructive, plan: Preview{Summary: "s", Targets: inScope, Risk: Write}, scope: Scope{Namespace: "todo"}, policy: yes,
			wantErr: ErrApprovalRequired, wantMsg: "--allow-destructive", wantRisk: Destructive},
		{name: "privileged needs the flag even with --yes", declared: Write, scope: Scope{Namespace: "todo"}, policy: yes,
			plan:    Preview{Summary: "s", Targets: inScope, Privileged: []string{"rolebinding/x grants permissions"}},
			wantErr: ErrApprovalRequired, wantMsg: "--allow-privileged", wantRisk: Write},
		{name: "privileged needs the flag even on a terminal", declared: Write, scope: Scope{Namespace: "todo"}, policy: Policy{Ask: func(context.Context, ApprovalRequest) (bool, error) { return true, nil }},
			plan:    Preview{Summary: "s", Targets: inScope, Privileged: []string{"rolebinding/x grants permissions"}},
			wantErr: ErrApprovalRequired, wantMsg: "--allow-privileged", wantRisk: Write},
		{name: "privileged with the flag and --yes", declared: Write, scope: Scope{Namespace: "todo"}, policy: Policy{AssumeYes: true, AllowPrivileged: true},
			plan: Preview{Summary: "s", Targets: inScope, Privileged: []string{"rolebinding/x grants permissions"}}, wantRisk: Write},
		{name: "cluster-scoped target is privileged", declared: Write, scope: Scope{Namespace: "todo"}, policy: yes,
			plan:    Preview{Summary: "s", Targets: []Target{{Kind: "Node", Name: "minikube"}}},
			wantErr: ErrApprovalRequired, wantMsg: "cluster-scoped node/minikube", wantRisk: Write},
		{name: "cluster-scoped target with --allow-privileged", declared: Write, scope: Scope{Namespace: "todo"}, policy: Policy{AssumeYes: true, AllowPrivileged: true},
			plan: Preview{Summary: "s", Targets: []Target{{Kind: "Node", Name: "minikube"}}}, wantRisk: Write},
		{name: "the namespace named by --create-namespace is an ordinary write", declared: Write, scope: Scope{Namespace: "todo", CreateNamespace: "todo"}, policy: yes,
			plan: Preview{Summary: "s", Targets: append([]Target{{Kind: "Namespace", Name: "todo"}}, inScope...)}, wantRisk: Write},
		{name: "another namespace object is not", declared: Write, scope: Scope{Namespace: "todo", CreateNamespace: "todo"}, policy: yes,
			plan:    Preview{Summary: "s", Targets: []Target{{Kind: "Namespace", Name: "other"}}},
			wantErr: ErrApprovalRequired, wantMsg: "--allow-privileged", wantRisk: Write},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &effectTool{plan: tt.plan}
			policy := tt.policy
			asked := false
			if tt.asked {
				policy.Ask = func(_ context.Context, req ApprovalRequest) (bool, error) {
					asked = true
					if len(req.OutOfScope) == 0 {
						t.Error("approval request lists no out-of-scope targets")
					}
					return true, nil
				}
			}
			g := &Gate{Registry: NewRegistry(e.tool(tt.declared)), Approver: &policy, Scope: tt.scope}
			rec := g.Call(context.Background(), "effect", nil)
			if tt.wantErr == nil && rec.Err() != nil {
				t.Fatalf("unexpected error: %v", rec.Err())
			}
			if tt.wantErr != nil {
				if !errors.Is(rec.Err(), tt.wantErr) {
					t.Fatalf("error = %v, want %v", rec.Err(), tt.wantErr)
				}
				if !strings.Contains(rec.Error, tt.wantMsg) {
					t.Errorf("error %q does not say %q", rec.Error, tt.wantMsg)
				}
				if e.runs != 0 {
					t.Errorf("refused action ran %d times", e.runs)
				}
			} else if e.runs != 1 {
				t.Errorf("approved action ran %d times, want 1", e.runs)
			}
			if tt.asked != asked {
				t.Errorf("asked on the terminal = %v, want %v", asked, tt.asked)
			}
			if rec.Risk != tt.wantRisk {
				t.Errorf("record risk = %v, want %v", rec.Risk, tt.wantRisk)
			}
		})
	}
}

func TestGateReplansOnConflict(t *testing.T) {
	targets := []Target{{Kind: "Deployment", Namespace: "todo", Name: "backend"}}
	approvals := 0
	policy := &Policy{Ask: func(context.Context, ApprovalRequest) (bool, error) { approvals++; return true, nil }}

	e := &effectTool{plan: Preview{Summary: "s", Targets: targets}, conflicts: 1}
	g := &Gate{Registry: NewRegistry(e.tool(Write)), Approver: policy, Scope: Scope{Namespace: "todo"}}
	if rec := g.Call(context.Background(), "effect", nil); rec.Err() != nil {
		t.Fatalf("one conflict, then success: %v", rec.Err())
	}
	if e.replans != 2 || approvals != 2 {
		t.Errorf("plans = %d, approvals = %d; want the change planned and asked about again (2, 2)", e.replans, approvals)
	}

	e = &effectTool{plan: Preview{Summary: "s", Targets: targets}, conflicts: 5}
	g.Registry = NewRegistry(e.tool(Write))
	rec := g.Call(context.Background(), "effect", nil)
	if !errors.Is(rec.Err(), ErrConflict) || e.runs != maxReplans {
		t.Errorf("a keeps-changing object: err = %v after %d runs; want ErrConflict after %d", rec.Err(), e.runs, maxReplans)
	}
}

func TestGateAudit(t *testing.T) {
	targets := []Target{{Kind: "Deployment", Namespace: "todo", Name: "backend"}}
	masked := json.RawMessage(`{"masked":true}`)
	mask := func(json.RawMessage) json.RawMessage { return masked }

	t.Run("started before the run, outcome after, arguments masked", func(t *testing.T) {
		e := &effectTool{plan: Preview{Summary: "s", Targets: targets}}
		audit := &memAudit{}
		g := &Gate{Registry: NewRegistry(e.tool(Write)), Approver: &Policy{AssumeYes: true}, Scope: Scope{Namespace: "todo"}, Audit: audit, Mask: mask}
		rec := g.Call(context.Background(), "effect", json.RawMessage(`{}`))
		if rec.Err() != nil {
			t.Fatal(rec.Err())
		}
		if len(audit.entries) != 2 || audit.entries[0].Phase != AuditStarted || audit.entries[1].Phase != AuditDone {
			t.Fatalf("audit entries = %+v, want started then done", audit.entries)
		}
		if string(audit.entries[0].Args) != string(masked) || string(rec.Args) != string(masked) {
			t.Errorf("arguments not masked: audit %s, record %s", audit.entries[0].Args, rec.Args)
		}
		if len(audit.entries[1].Targets) != 1 {
			t.Errorf("audit entry lacks targets: %+v", audit.entries[1])
		}
	})
	t.Run("an unwritable audit log stops the change before approval", func(t *testing.T) {
		e := &effectTool{plan: Preview{Summary: "s", Targets: targets}}
		asked := false
		policy := &Policy{Ask: func(context.Context, ApprovalRequest) (bool, error) { asked = true; return true, nil }}
		g := &Gate{Registry: NewRegistry(e.tool(Write)), Approver: policy, Scope: Scope{Namespace: "todo"}, Audit: &memAudit{broken: errors.New("read-only file system")}}
		rec := g.Call(context.Background(), "effect", nil)
		if rec.Err() == nil || asked || e.runs != 0 {
			t.Fatalf("err = %v, asked = %v, runs = %d; want a refusal before asking", rec.Err(), asked, e.runs)
		}
	})
}

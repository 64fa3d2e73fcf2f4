package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

type counterArgs struct {
	Name     string `json:"name" description:"what to set"`
	Replicas int    `json:"replicas" description:"desired count"`
	Note     string `json:"note,omitempty"`
}

func (a counterArgs) Validate() error {
	if a.Replicas < 0 || a.Replicas > 100 {
		return fmt.Errorf("replicas must be between 0 and 100, got %d", a.Replicas)
	}
	return nil
}

// store is a stand-in for cluster state: the gate logic under test is
// independent of Kubernetes.
type store struct {
	mu     sync.Mutex
	values map[string]int
}

func (s *store) setTool(risk Risk) Tool {
	return Define("set_value", "set a value", risk, func(_ context.Context, a counterArgs) (Action, error) {
		s.mu.Lock()
		cur, ok := s.values[a.Name]
		s.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("value %q: %w", a.Name, ErrNotFound)
		}
		return Mutation{
			Plan: Preview{Summary: fmt.Sprintf("%s: %d → %d", a.Name, cur, a.Replicas), NoChange: cur == a.Replicas,
				Targets: []Target{{Kind: "Value", Namespace: "ns", Name: a.Name}}},
			Apply: func(context.Context) (any, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.values[a.Name] = a.Replicas
				return map[string]int{"replicas": a.Replicas}, nil
			},
		}, nil
	})
}

type memAudit struct {
	entries []AuditEntry
	broken  error
}

func (m *memAudit) Check() error { return m.broken }

func (m *memAudit) Record(_ context.Context, e AuditEntry) error {
	m.entries = append(m.entries, e)
	return nil
}

func TestGate(t *testing.T) {
	ask := func(answer bool) func(context.Context, ApprovalRequest) (bool, error) {
		return func(context.Context, ApprovalRequest) (bool, error) { return answer, nil }
	}
	tests := []struct {
		name      string
		risk      Risk
		args      string
		policy    Policy
		dryRun    bool
		wantErr   error
		wantValue int
		wantAudit int
	}{
		{name: "approved by --yes", risk: Write, args: `{"name":"a","replicas":3}`, policy: Policy{AssumeYes: true}, wantValue: 3, wantAudit: 1},
		{name: "no terminal, no --yes", risk: Write, args: `{"name":"a","replicas":3}`, wantErr: ErrApprovalRequired, wantValue: 1},
		{name: "declined on terminal", risk: Write, args: `{"name":"a","replicas":3}`, policy: Policy{Ask: ask(false)}, wantErr: ErrDeclined, wantValue: 1},
		{name: "accepted on terminal", risk: Write, args: `{"name":"a","replicas":3}`, policy: Policy{Ask: ask(true)}, wantValue: 3, wantAudit: 1},
		{name: "dry run", risk: Write, args: `{"name":"a","replicas":3}`, policy: Policy{AssumeYes: true}, dryRun: true, wantValue: 1},
		{name: "no change needed", risk: Write, args: `{"name":"a","replicas":1}`, wantValue: 1},
		{name: "destructive needs --allow-destructive", risk: Destructive, args: `{"name":"a","replicas":0}`, policy: Policy{AssumeYes: true}, wantErr: ErrApprovalRequired, wantValue: 1},
		{name: "destructive allowed", risk: Destructive, args: `{"name":"a","replicas":0}`, policy: Policy{AssumeYes: true, AllowDestructive: true}, wantValue: 0, wantAudit: 1},
		{name: "out of range", risk: Write, args: `{"name":"a","replicas":1000000000}`, policy: Policy{AssumeYes: true}, wantErr: ErrInvalidArgs, wantValue: 1},
		{name: "unknown field", risk: Write, args: `{"name":"a","replicas":2,"force":true}`, policy: Policy{AssumeYes: true}, wantErr: ErrInvalidArgs, wantValue: 1},
		{name: "case-variant duplicate key", risk: Write, args: `{"name":"a","replicas":2,"Replicas":5}`, policy: Policy{AssumeYes: true}, wantErr: ErrInvalidArgs, wantValue: 1},
		{name: "wrong type", risk: Write, args: `{"name":"a","replicas":"3"}`, policy: Policy{AssumeYes: true}, wantErr: ErrInvalidArgs, wantValue: 1},
		{name: "missing required", risk: Write, args: `{"name":"a"}`, policy: Policy{AssumeYes: true}, wantErr: ErrInvalidArgs, wantValue: 1},
		{name: "not an object", risk: Write, args: `[1,2]`, policy: Policy{AssumeYes: true}, wantErr: ErrInvalidArgs, wantValue: 1},
		{name: "trailing data", risk: Write, args: `{"name":"a","replicas":2} {"name":"a","replicas":9}`, policy: Policy{AssumeYes: true}, wantErr: ErrInvalidArgs, wantValue: 1},
		{name: "unknown object", risk: Write, args: `{"name":"zzz","replicas":2}`, policy: Policy{AssumeYes: true}, wantErr: ErrNotFound, wantValue: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &store{values: map[string]int{"a": 1}}
			audit := &memAudit{}
			policy := tt.policy
			g := &Gate{Registry: NewRegistry(s.setTool(tt.risk)), Approver: &policy, DryRun: tt.dryRun, Audit: audit, Scope: Scope{Namespace: "ns"}}
			rec := g.Call(context.Background(), "set_value", json.RawMessage(tt.args))
			if tt.wantErr != nil {
				if !errors.Is(rec.Err(), tt.wantErr) {
					t.Fatalf("want error %v, got %v", tt.wantErr, rec.Err())
				}
				if rec.Error == "" {
					t.Error("Record.Error empty for a failed call")
				}
			} else if rec.Err() != nil {
				t.Fatalf("unexpected error: %v", rec.Err())
			}
			if got := s.values["a"]; got != tt.wantValue {
				t.Errorf("value = %d, want %d", got, tt.wantValue)
			}
			// Each run mutation is recorded twice: started, then its outcome.
			if len(audit.entries) != 2*tt.wantAudit {
				t.Errorf("audit entries = %d, want %d", len(audit.entries), tt.wantAudit)
			}
			if rec.Risk != tt.risk && tt.wantErr != ErrUnknownTool {
				t.Errorf("record risk = %v, want %v", rec.Risk, tt.risk)
			}
		})
	}
}

func TestGateUnknownTool(t *testing.T) {
	s := &store{values: map[string]int{"a": 1}}
	g := &Gate{Registry: NewRegistry(s.setTool(Write)), Approver: &Policy{AssumeYes: true}}
	rec := g.Call(context.Background(), "delete_everything", json.RawMessage(`{}`))
	if !errors.Is(rec.Err(), ErrUnknownTool) || !strings.Contains(rec.Error, "set_value") {
		t.Fatalf("want ErrUnknownTool listing known tools, got %v", rec.Err())
	}
	if !IsBadInput(rec.Err()) {
		t.Error("unknown tool must count as bad input")
	}
}

func TestSchemaFromArgsType(t *testing.T) {
	s := &store{}
	tool := s.setTool(Write)
	sch := tool.Schema()
	if sch.Type != "object" || sch.AdditionalProperties != false {
		t.Fatalf("schema must be a closed object, got %+v", sch)
	}
	if got := strings.Join(sch.Required, ","); got != "name,replicas" {
		t.Errorf("required = %q, want name,replicas (note is optional)", got)
	}
	if sch.Properties["replicas"].Type != "integer" || sch.Properties["replicas"].Description != "desired count" {
		t.Errorf("replicas property = %+v", sch.Properties["replicas"])
	}
}

func FuzzDecodeArgs(f *testing.F) {
	for _, seed := range []string{`{"name":"a","replicas":3}`, `{}`, `null`, `[]`, `{"replicas":1e9}`, `{"name":"a","replicas":-1}`, `{"name":1}`, "\x00"} {
		f.Add([]byte(seed))
	}
	s := &store{}
	schema := s.setTool(Write).Schema()
	f.Fuzz(func(t *testing.T, raw []byte) {
		var a counterArgs
		err := DecodeArgs(raw, schema, &a)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgs) {
				t.Fatalf("error does not wrap ErrInvalidArgs: %v", err)
			}
			return
		}
		// Anything accepted must satisfy the declared rules.
		if a.Replicas < 0 || a.Replicas > 100 {
			t.Fatalf("accepted out-of-range replicas %d from %q", a.Replicas, raw)
		}
	})
}

package tools

import (
	"context"
	"fmt"
	"strings"
)

// Policy is the Approver used by the CLI. It approves in this order:
//   - destructive changes need AllowDestructive (--allow-destructive) and
//     privileged ones AllowPrivileged (--allow-privileged), however they are
//     approved otherwise: neither --yes nor a terminal "y" replaces them;
//   - AssumeYes (--yes) approves what lies within the request's scope (its
//     namespace); anything outside is asked on the terminal;
//   - without a terminal (Ask == nil) an unapproved change is refused with
//     ErrApprovalRequired and a message naming what would permit it; it is
//     never waited on.
type Policy struct {
	AssumeYes        bool
	AllowDestructive bool
	AllowPrivileged  bool
	// Ask shows the request and returns the user's answer. Nil means nobody
	// can be asked (no terminal, or --non-interactive).
	Ask func(ctx context.Context, req ApprovalRequest) (bool, error)
	// AskedBy names who Ask reaches, for the audit log and records:
	// "terminal" (the default), "mcp elicitation", "http approval by alice".
	AskedBy string
}

var _ Approver = (*Policy)(nil)

// Approve implements Approver.
func (p *Policy) Approve(ctx context.Context, req ApprovalRequest) (Approval, error) {
	if !req.Risk.Mutates() {
		return Approval{Approved: true, By: "read-only"}, nil
	}
	if req.Risk == Destructive && !p.AllowDestructive {
		return Approval{}, fmt.Errorf("%s is destructive (%s): %w: re-run with --allow-destructive to permit it",
			req.Tool, req.Preview.Summary, ErrApprovalRequired)
	}
	if len(req.Privileged) > 0 && !p.AllowPrivileged {
		return Approval{}, fmt.Errorf("%s is privileged (%s): %w: re-run with --allow-privileged to permit it (and approve it)",
			req.Tool, strings.Join(req.Privileged, "; "), ErrApprovalRequired)
	}
	outside := req.OutOfScope
	if len(req.Privileged) > 0 {
		// Cluster-scoped targets are covered by --allow-privileged.
		outside = namespaced(outside)
	}
	if p.AssumeYes && len(outside) == 0 {
		return Approval{Approved: true, By: "--yes"}, nil
	}
	if p.Ask == nil {
		if p.AssumeYes {
			return Approval{}, fmt.Errorf("%s would change %s, outside this request's scope (namespace %q): %w: --yes approves changes in that namespace only; %s, or run it on a terminal to be asked",
				req.Tool, describeTargets(outside), req.Scope.Namespace, ErrApprovalRequired, scopeHint(outside))
		}
		return Approval{}, fmt.Errorf("%s would change the cluster (%s): %w: no terminal to ask on; re-run with --yes to approve, or --dry-run to only preview",
			req.Tool, req.Preview.Summary, ErrApprovalRequired)
	}
	ok, err := p.Ask(ctx, req)
	if err != nil {
		return Approval{}, fmt.Errorf("asking for approval of %s: %w", req.Tool, err)
	}
	by := p.AskedBy
	if by == "" {
		by = "terminal"
	}
	return Approval{Approved: ok, By: by}, nil
}

// namespaced keeps the targets that live in a namespace (and the fail-closed
// pseudo-target of an action that named none).
func namespaced(ts []Target) []Target {
	var out []Target
	for _, t := range ts {
		if t.Namespace != "" || t.Kind == "unknown" {
			out = append(out, t)
		}
	}
	return out
}

func describeTargets(ts []Target) string {
	const maxShown = 5
	parts := make([]string, 0, min(len(ts), maxShown+1))
	for i, t := range ts {
		if i == maxShown {
			parts = append(parts, fmt.Sprintf("and %d more", len(ts)-maxShown))
			break
		}
		parts = append(parts, t.String())
	}
	return strings.Join(parts, ", ")
}

// scopeHint names the scope a refused change would need.
func scopeHint(outside []Target) string {
	nss := namespacesOf(outside)
	switch {
	case len(nss) == 1 && len(namespaced(outside)) == len(outside):
		return fmt.Sprintf("re-run with -n %s to approve changes there with --yes", nss[0])
	case len(nss) > 1:
		return fmt.Sprintf("it spans namespaces %s: run one request per namespace with -n", strings.Join(nss, ", "))
	}
	return "the action does not say which objects it changes, so --yes cannot approve it"
}

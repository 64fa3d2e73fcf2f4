package tools

import (
	"context"
	"fmt"
)

// Policy is the Approver used by the CLI. Writes are approved by AssumeYes
// (--yes) or by asking on a terminal; destructive actions additionally need
// AllowDestructive (--allow-destructive). Without a terminal (Ask == nil)
// an unapproved mutation is refused with ErrApprovalRequired, never waited on.
type Policy struct {
	AssumeYes        bool
	AllowDestructive bool
	// Ask shows the request and returns the user's answer. Nil means nobody
	// can be asked (no terminal, or --non-interactive).
	Ask func(ctx context.Context, req ApprovalRequest) (bool, error)
}

var _ Approver = (*Policy)(nil)

// Approve implements Approver.
func (p *Policy) Approve(ctx context.Context, req ApprovalRequest) (Approval, error) {
	switch {
	case !req.Risk.Mutates():
		return Approval{Approved: true, By: "read-only"}, nil
	case req.Risk == Destructive && !p.AllowDestructive:
		return Approval{}, fmt.Errorf("%s is destructive (%s): %w: re-run with --allow-destructive to permit it",
			req.Tool, req.Preview.Summary, ErrApprovalRequired)
	case p.AssumeYes:
		return Approval{Approved: true, By: "--yes"}, nil
	case p.Ask == nil:
		return Approval{}, fmt.Errorf("%s would change the cluster (%s): %w: no terminal to ask on; re-run with --yes to approve, or --dry-run to only preview",
			req.Tool, req.Preview.Summary, ErrApprovalRequired)
	}
	ok, err := p.Ask(ctx, req)
	if err != nil {
		return Approval{}, fmt.Errorf("asking for approval of %s: %w", req.Tool, err)
	}
	return Approval{Approved: ok, By: "terminal"}, nil
}

package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/session"
)

// The flag groups every command shares, as kubectl's PrintFlags and Helm's
// addValueOptionsFlags: one declaration, one help text and one check per
// group, so that -o or --yes means the same on every command.

// Output formats of -o/--output.
const (
	outputText = "text"
	outputJSON = "json"
)

// outputFlag is one command's -o/--output. It is declared by addOutputFlag,
// which makes text the default, and checked by validate. An empty value
// (-o "") means the default, text, on every command.
type outputFlag struct {
	cmd     *cobra.Command
	value   *string
	allowed []string
}

var _ pflag.Value = (*outputFlag)(nil)

// addOutputFlag declares -o/--output on cmd, stored in p and defaulting to
// text. allowed are the formats the command prints (default text and json);
// text must be one of them. The command's Validate calls validate on the
// result.
func addOutputFlag(cmd *cobra.Command, p *string, allowed ...string) *outputFlag {
	if len(allowed) == 0 {
		allowed = []string{outputText, outputJSON}
	}
	*p = outputText
	f := &outputFlag{cmd: cmd, value: p, allowed: allowed}
	cmd.Flags().VarP(f, "output", "o", outputUsage(allowed))
	// Only fails for a flag that does not exist or has a function already.
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(allowed, cobra.ShellCompDirectiveNoFileComp))
	return f
}

// outputUsage is the help text of every -o/--output flag.
func outputUsage(allowed []string) string {
	return "output format: " + orList(allowed)
}

// Set stores s; the empty string is the default, text.
func (f *outputFlag) Set(s string) error {
	if s == "" {
		s = outputText
	}
	*f.value = s
	return nil
}

func (f *outputFlag) String() string { return *f.value }

// Type is "string", so help and completion treat -o like any string flag.
func (f *outputFlag) Type() string { return "string" }

// validate checks the value against the formats the command prints.
func (f *outputFlag) validate() error {
	if slices.Contains(f.allowed, *f.value) {
		return nil
	}
	return fmt.Errorf("--output %q: not supported by %s; use %s", *f.value, commandName(f.cmd), orList(f.allowed))
}

// commandName is cmd's path without the root's name ("create secret"), or
// the root's name for the root itself.
func commandName(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return cmd.Name()
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// approvalFlags are the flags that approve changes, with the meaning
// docs/risk.md gives them. Every command that changes the cluster declares
// them with addFlags.
type approvalFlags struct {
	Yes              bool
	AllowDestructive bool
	AllowPrivileged  bool
	DryRun           bool
	NonInteractive   bool
	AuditLog         string
}

// approvalOffer says which of the approval flags a command offers.
type approvalOffer struct {
	// destructive: the command can make destructive changes, so it offers
	// --allow-destructive.
	destructive bool
	// server: the command serves callers (mcp), who approve each change;
	// it neither asks on a terminal nor previews without changing, so it
	// offers no --non-interactive and no --dry-run.
	server bool
}

// addFlags declares the approval flags the command offers.
func (a *approvalFlags) addFlags(f *pflag.FlagSet, offer approvalOffer) {
	yes := "approve changes in the namespace (-n, else the kubeconfig's) without asking"
	if offer.destructive {
		yes += "; destructive ones also need --allow-destructive"
	}
	f.BoolVarP(&a.Yes, "yes", "y", false, yes)
	if offer.destructive {
		f.BoolVar(&a.AllowDestructive, "allow-destructive", false, "permit destructive actions, such as deleting a pod or uninstalling a release (each still needs approval)")
	}
	f.BoolVar(&a.AllowPrivileged, "allow-privileged", false, "permit privileged actions, and charts that render them (RBAC, cluster-scoped objects, webhooks, CRDs, privileged pods); each still needs approval")
	if !offer.server {
		f.BoolVar(&a.DryRun, "dry-run", false, "show what would change and change nothing")
		f.BoolVar(&a.NonInteractive, "non-interactive", false, "never ask: changes not approved by --yes are not made (exit 3)")
	}
	addAuditLogFlag(f, &a.AuditLog)
}

// addAuditLogFlag declares --audit-log.
func addAuditLogFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "audit-log", "", "audit log file (default $"+config.KeyAuditLog+", else $XDG_STATE_HOME/opsagent/audit.log)")
}

// gateSettings are the gate's settings from the flags; auditLog is the
// resolved audit log (--audit-log, else the configuration's).
func (a *approvalFlags) gateSettings(auditLog string) session.GateSettings {
	return session.GateSettings{Yes: a.Yes, AllowDestructive: a.AllowDestructive, AllowPrivileged: a.AllowPrivileged, DryRun: a.DryRun, AuditLog: auditLog}
}

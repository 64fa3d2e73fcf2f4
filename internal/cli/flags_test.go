package cli

import (
	"maps"
	"slices"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Every -o/--output is the one flag of addOutputFlag: one help text, text
// by default, and an empty -o meaning text.
func TestEveryOutputFlagIsTheSharedOne(t *testing.T) {
	t.Parallel()
	root := NewRootCmd(genericiooptions.IOStreams{})
	n := 0
	walkCommands(root, func(c *cobra.Command) {
		f := c.LocalFlags().Lookup("output")
		if f == nil {
			if c.LocalFlags().ShorthandLookup("o") != nil {
				t.Errorf("%s: -o is not --output", c.CommandPath())
			}
			return
		}
		n++
		v, ok := f.Value.(*outputFlag)
		if !ok {
			t.Errorf("%s: --output is declared by hand, not by addOutputFlag", c.CommandPath())
			return
		}
		if f.Shorthand != "o" || f.Usage != outputUsage(v.allowed) || f.DefValue != outputText {
			t.Errorf("%s: -%s/--output %q (default %q); want -o, %q, default %q",
				c.CommandPath(), f.Shorthand, f.Usage, f.DefValue, outputUsage(v.allowed), outputText)
		}
		if err := v.Set(""); err != nil || v.String() != outputText || v.validate() != nil {
			t.Errorf("%s: -o '' is %q (%v), want text", c.CommandPath(), v.String(), err)
		}
	})
	if n < 10 {
		t.Errorf("found --output on %d commands; the walk misses some", n)
	}
}

// Every command with approval flags declares them with approvalFlags.addFlags:
// the same names, shorthands and help texts as one of its offers.
func TestEveryApprovalFlagIsTheSharedOne(t *testing.T) {
	t.Parallel()
	// flags maps the approval flags fs has to their shorthand and usage.
	all := pflag.NewFlagSet("all", pflag.ContinueOnError)
	new(approvalFlags).addFlags(all, approvalOffer{destructive: true})
	flags := func(fs *pflag.FlagSet) map[string]string {
		m := map[string]string{}
		all.VisitAll(func(a *pflag.Flag) {
			if f := fs.Lookup(a.Name); f != nil {
				m[f.Name] = f.Shorthand + " " + f.Usage
			}
		})
		return m
	}
	var offers []map[string]string
	for _, offer := range []approvalOffer{{}, {destructive: true}, {server: true}, {destructive: true, server: true}} {
		fs := pflag.NewFlagSet("offer", pflag.ContinueOnError)
		new(approvalFlags).addFlags(fs, offer)
		offers = append(offers, flags(fs))
	}
	n := 0
	walkCommands(NewRootCmd(genericiooptions.IOStreams{}), func(c *cobra.Command) {
		got := flags(c.LocalFlags())
		if len(got) == 0 || len(got) == 1 && got["audit-log"] != "" { // serve has --audit-log only
			return
		}
		n++
		if !slices.ContainsFunc(offers, func(want map[string]string) bool { return maps.Equal(got, want) }) {
			t.Errorf("%s: approval flags %v are not one of addFlags' sets", c.CommandPath(), got)
		}
	})
	// The agent, mcp, install, rollback, uninstall, create secret and
	// configmap, recommend.
	if n != 8 {
		t.Errorf("found approval flags on %d commands, want 8", n)
	}
}

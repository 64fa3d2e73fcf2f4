package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/version"
)

// VersionOptions are the flags of `opsagent version`.
type VersionOptions struct {
	Output string
	genericiooptions.IOStreams
	output *outputFlag
}

// NewCmdVersion is `opsagent version`: what this binary is and which
// Kubernetes and Helm libraries it was built with.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	o := &VersionOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date, and the Go, client-go and Helm versions",
		Example: `  opsagent version
  opsagent version -o json`,
		Args: exactArgs(0),
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := o.output.validate(); err != nil {
				return BadInput(err)
			}
			return o.Run(version.Get())
		},
	}
	o.output = addOutputFlag(cmd, &o.Output)
	return cmd
}

// Run prints info.
func (o *VersionOptions) Run(info version.Info) error {
	if o.Output == outputJSON {
		return writeJSON(o.Out, info)
	}
	unknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	tw := tabwriter.NewWriter(o.Out, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"version", info.Version},
		{"commit", unknown(info.Commit)},
		{"built", unknown(info.BuildDate)},
		{"go", info.GoVersion + " " + info.Platform},
		{"client-go", unknown(info.ClientGo)},
		{"helm", unknown(info.Helm)},
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1]); err != nil {
			return err
		}
	}
	return tw.Flush()
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/sandbox"
)

// NewCmdSandbox is `opsagent sandbox`: a real local control plane with
// simulated nodes, for trying opsagent without minikube and for tests.
func NewCmdSandbox(streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a local Kubernetes cluster (real API server, simulated nodes)",
		Long: `A local Kubernetes control plane — etcd, kube-apiserver, kube-controller-manager,
kube-scheduler — with kwok simulating the nodes, so pods reach Running without a
container engine. It looks like minikube to workloads: a node named minikube, a
default StorageClass "standard" with a working provisioner, an IngressClass "nginx".
Everything listens on 127.0.0.1 only.

Failure simulation: label a pod sim.opsagent.dev/state=CrashLoopBackOff, OOMKilled,
ImagePullBackOff, Error or Unready; label a node sim.opsagent.dev/node-state=NotReady,
MemoryPressure, DiskPressure or PIDPressure.`,
	}
	cmd.AddCommand(newCmdSandboxUp(streams), newCmdSandboxDown(streams), newCmdSandboxStatus(streams),
		newCmdSandboxKubeconfig(streams), newCmdSandboxProvisioner())
	return cmd
}

// SandboxUpOptions are the flags of `sandbox up`.
type SandboxUpOptions struct {
	Config   sandbox.Config
	Output   string
	Binaries sandboxBinaries
	genericiooptions.IOStreams
	output *outputFlag
}

func newCmdSandboxUp(streams genericiooptions.IOStreams) *cobra.Command {
	o := &SandboxUpOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the sandbox cluster and wait until it is ready",
		Example: `  opsagent sandbox up
  opsagent sandbox up --name second --nodes 3
  export KUBECONFIG=$(opsagent sandbox kubeconfig --path)`,
		Args: exactArgs(0),
		RunE: runOptions(o),
	}
	f := cmd.Flags()
	f.StringVar(&o.Config.Name, "name", sandbox.DefaultName, "sandbox name (several can run at once)")
	f.IntVar(&o.Config.Nodes, "nodes", 1, "number of simulated nodes")
	f.StringVar(&o.Config.NodeCPU, "node-cpu", "8", "CPU capacity of each node")
	f.StringVar(&o.Config.NodeMemory, "node-memory", "32Gi", "memory capacity of each node")
	f.StringVar(&o.Config.NodePods, "node-pods", "110", "pod capacity of each node")
	f.IntVar(&o.Config.Ports.APIServer, "api-port", 0, "kube-apiserver port (0 picks a free one)")
	f.StringVar(&o.Config.BinDir, "bin-dir", "", "folder with the control-plane binaries (default "+sandbox.DefaultBinDir()+")")
	f.DurationVar(&o.Config.Timeout, "timeout", 2*time.Minute, "how long to wait for the cluster to be ready")
	o.Binaries.addFlags(f)
	o.output = addOutputFlag(cmd, &o.Output)
	return cmd
}

// Validate checks the flags.
func (o *SandboxUpOptions) Validate(_ []string) error {
	if o.Config.Nodes < 1 || o.Config.Nodes > 1000 {
		return fmt.Errorf("--nodes must be between 1 and 1000, got %d", o.Config.Nodes)
	}
	if o.Config.Ports.APIServer < 0 || o.Config.Ports.APIServer > 65535 {
		return fmt.Errorf("--api-port must be a TCP port, got %d", o.Config.Ports.APIServer)
	}
	return o.output.validate()
}

// Complete sends the progress of the start to stderr.
func (o *SandboxUpOptions) Complete(_ []string) error {
	o.Config.Progress = o.ErrOut
	return nil
}

// Run starts the sandbox.
func (o *SandboxUpOptions) Run(ctx context.Context) error {
	if err := o.Binaries.install(ctx, o.Config.BinDir, o.ErrOut); err != nil {
		return err
	}
	st, err := sandbox.Up(ctx, o.Config)
	if err != nil {
		code := ExitFailed
		if errors.Is(err, sandbox.ErrAlreadyRunning) || errors.Is(err, sandbox.ErrPortInUse) || errors.Is(err, sandbox.ErrMissingBinary) {
			code = ExitBadInput
		}
		return &ExitError{Code: code, Err: fmt.Errorf("sandbox up: %w", withBinariesHint(err))}
	}
	if o.Output == outputJSON {
		return writeJSON(o.Out, st)
	}
	_, err = fmt.Fprintf(o.Out, "sandbox %q is ready in %s: %d node(s), API at %s\nkubeconfig: %s (context %s)\n\n"+
		"Use it:\n  export KUBECONFIG=%s\n  opsagent \"list pods\"\n  opsagent sandbox status%s\n  opsagent sandbox down%s\n",
		st.Name, st.ReadyAfter, len(st.Nodes), st.Server, st.Kubeconfig, st.Context,
		st.Kubeconfig, nameFlag(st.Name), nameFlag(st.Name))
	return err
}

func nameFlag(name string) string {
	if name == sandbox.DefaultName {
		return ""
	}
	return " --name " + name
}

func newCmdSandboxDown(streams genericiooptions.IOStreams) *cobra.Command {
	var name string
	var purge bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop every process of the sandbox and free its ports",
		Long:  "Stops the sandbox. Its data (objects, volumes, certificates) is kept for the next `up` unless --purge is given.",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sandbox.Down(cmd.Context(), sandbox.StateDir(name), purge); err != nil {
				if errors.Is(err, sandbox.ErrNotRunning) {
					return &ExitError{Code: ExitFailed, Err: fmt.Errorf("sandbox %q is not running (nothing to stop)", name)}
				}
				return &ExitError{Code: ExitFailed, Err: fmt.Errorf("sandbox down: %w", err)}
			}
			_, err := fmt.Fprintf(streams.Out, "sandbox %q stopped%s\n", name, map[bool]string{true: " and its data deleted", false: ""}[purge])
			return err
		},
	}
	cmd.Flags().StringVar(&name, "name", sandbox.DefaultName, "sandbox name")
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete the sandbox's data")
	return cmd
}

func newCmdSandboxStatus(streams genericiooptions.IOStreams) *cobra.Command {
	var name, output string
	var outFlag *outputFlag
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the health of each sandbox component and node",
		Long:  "Shows each component's process and health endpoint, and each node. Exits 1 when anything is unhealthy.",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outFlag.validate(); err != nil {
				return BadInput(err)
			}
			r, err := sandbox.Status(cmd.Context(), sandbox.StateDir(name))
			if err != nil {
				if errors.Is(err, sandbox.ErrNotRunning) {
					return &ExitError{Code: ExitFailed, Err: fmt.Errorf("sandbox %q is not running; start it with `opsagent sandbox up%s`", name, nameFlag(name))}
				}
				return &ExitError{Code: ExitFailed, Err: err}
			}
			if output == outputJSON {
				if err := writeJSON(streams.Out, r); err != nil {
					return err
				}
			} else if err := printSandboxReport(streams, r); err != nil {
				return err
			}
			if !r.Healthy {
				return &ExitError{Code: ExitFailed, Silent: true}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", sandbox.DefaultName, "sandbox name")
	outFlag = addOutputFlag(cmd, &output)
	return cmd
}

// printSandboxReport writes the report as a table. Every line goes through the
// tabwriter, which buffers the table until Flush; a failed write (a closed
// pipe) fails again there, so Flush's error is the one to return.
func printSandboxReport(streams genericiooptions.IOStreams, r *sandbox.Report) error {
	tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintf(tw, "sandbox %q  API %s  up since %s\n", r.Name, r.Server, r.StartedAt.Format(time.RFC3339))
	_, _ = fmt.Fprintln(tw, "COMPONENT\tPID\tSTATE\tDETAIL")
	for _, c := range r.Components {
		state := "healthy"
		switch {
		case !c.Running:
			state = "DOWN"
		case !c.Healthy:
			state = "UNHEALTHY"
		}
		detail := c.Detail
		if !c.Healthy {
			detail += " (log: " + c.Log + ")"
		}
		_, _ = fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", c.Name, c.PID, state, detail)
	}
	for _, n := range r.Nodes {
		state := "Ready"
		if !n.Ready {
			state = "NotReady"
		}
		_, _ = fmt.Fprintf(tw, "node/%s\t-\t%s\t\n", n.Name, state)
	}
	_, _ = fmt.Fprintf(tw, "kubeconfig: %s\n", r.Kubeconfig)
	return tw.Flush()
}

func newCmdSandboxKubeconfig(streams genericiooptions.IOStreams) *cobra.Command {
	var name string
	var pathOnly bool
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print the sandbox's kubeconfig (or its path with --path)",
		Example: `  export KUBECONFIG=$(opsagent sandbox kubeconfig --path)
  opsagent sandbox kubeconfig > sandbox.kubeconfig`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := sandbox.KubeconfigPath(name)
			data, err := os.ReadFile(path)
			if err != nil {
				return &ExitError{Code: ExitFailed, Err: fmt.Errorf("sandbox %q has no kubeconfig at %s; start it with `opsagent sandbox up%s`", name, path, nameFlag(name))}
			}
			if pathOnly {
				_, err := fmt.Fprintln(streams.Out, path)
				return err
			}
			_, err = streams.Out.Write(data)
			return err
		},
	}
	cmd.Flags().StringVar(&name, "name", sandbox.DefaultName, "sandbox name")
	cmd.Flags().BoolVar(&pathOnly, "path", false, "print the file's path instead of its content")
	return cmd
}

// newCmdSandboxProvisioner is the volume provisioner `sandbox up` starts as a
// child process; not meant to be run by hand.
func newCmdSandboxProvisioner() *cobra.Command {
	var kubeconfig, volumes string
	cmd := &cobra.Command{
		Use:    "provisioner",
		Hidden: true,
		Args:   exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			return sandbox.RunProvisioner(ctx, kubeconfig, volumes)
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the sandbox")
	cmd.Flags().StringVar(&volumes, "volumes", "", "folder that holds the volumes")
	return cmd
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

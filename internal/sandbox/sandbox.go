// Package sandbox runs a real, local Kubernetes control plane for trying
// opsagent and for tests: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler from source-built binaries, with kwok simulating the nodes so
// pods reach Running without a container engine. It is laid out to look like
// minikube to workloads: a node called minikube, a default StorageClass
// "standard" with a working provisioner, and an IngressClass "nginx".
//
// Every component is a child process bound to 127.0.0.1, recorded in a state
// file so that later invocations (status, down) find them.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config describes a sandbox to start.
type Config struct {
	// Name tells sandboxes apart; it names the state folder and the
	// kubeconfig context ("opsagent-<name>").
	Name string
	// StateDir overrides the state folder (default StateDir(Name)).
	StateDir string
	// BinDir holds etcd, kube-apiserver, ... (default DefaultBinDir()).
	BinDir string
	// Nodes is the number of fake nodes (default 1).
	Nodes int
	// NodeCPU, NodeMemory and NodePods are each node's capacity
	// (default 8, 32Gi, 110).
	NodeCPU, NodeMemory, NodePods string
	// Ports to listen on; zero fields are chosen free.
	Ports Ports
	// ProvisionerCommand runs the volume provisioner; the kubeconfig and
	// volume root are appended as flags. Default: this executable with
	// "sandbox provisioner".
	ProvisionerCommand []string
	// ProvisionerEnv is added to the provisioner's environment.
	ProvisionerEnv []string
	// Timeout bounds the whole start-up (default 2 minutes).
	Timeout time.Duration
	// Progress receives one line per step; nil discards.
	Progress io.Writer
}

func (c *Config) setDefaults() error {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if strings.ContainsAny(c.Name, `/\ `) || strings.HasPrefix(c.Name, ".") {
		return fmt.Errorf("invalid sandbox name %q: use letters, digits and dashes", c.Name)
	}
	if c.StateDir == "" {
		c.StateDir = StateDir(c.Name)
	}
	if c.BinDir == "" {
		c.BinDir = DefaultBinDir()
	}
	if c.Nodes == 0 {
		c.Nodes = 1
	}
	if c.Nodes < 0 || c.Nodes > 1000 {
		return fmt.Errorf("invalid node count %d: must be between 1 and 1000", c.Nodes)
	}
	if c.NodeCPU == "" {
		c.NodeCPU = "8"
	}
	if c.NodeMemory == "" {
		c.NodeMemory = "32Gi"
	}
	if c.NodePods == "" {
		c.NodePods = "110"
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if len(c.ProvisionerCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the opsagent executable for the provisioner: %w", err)
		}
		c.ProvisionerCommand = []string{exe, "sandbox", "provisioner"}
	}
	return nil
}

// State is what a running sandbox records about itself in state.json.
type State struct {
	Name       string     `json:"name"`
	Dir        string     `json:"dir"`
	Kubeconfig string     `json:"kubeconfig"`
	Context    string     `json:"context"`
	Server     string     `json:"server"`
	Ports      Ports      `json:"ports"`
	Nodes      []string   `json:"nodes"`
	Processes  []*process `json:"processes"`
	StartedAt  time.Time  `json:"startedAt"`
	// ReadyAfter is how long start-up took, for the status display.
	ReadyAfter time.Duration `json:"readyAfter"`
}

// ErrAlreadyRunning is returned by Up when the sandbox's processes still run.
var ErrAlreadyRunning = errors.New("sandbox is already running")

// ErrNotRunning is returned by Status and Down when there is no state.
var ErrNotRunning = errors.New("sandbox is not running")

// ErrMissingBinary is returned by Up when a control-plane binary is absent.
var ErrMissingBinary = errors.New("control-plane binary missing")

func stateFile(dir string) string { return filepath.Join(dir, "state.json") }

// LoadState reads the state of the sandbox in dir.
func LoadState(dir string) (*State, error) {
	data, err := os.ReadFile(stateFile(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: no state in %s", ErrNotRunning, dir)
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("read %s: %w", stateFile(dir), err)
	}
	return &s, nil
}

func (s *State) save() error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := stateFile(s.Dir) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, stateFile(s.Dir))
}

// running returns the recorded processes that are still alive.
func (s *State) running() []*process {
	var out []*process
	for _, p := range s.Processes {
		if p.alive() {
			out = append(out, p)
		}
	}
	return out
}

var requiredBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", metricsServerName}

func checkBinaries(dir string) error {
	var missing []string
	for _, b := range requiredBinaries {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s not found in %s; build them with `make cluster` (hack/build-cluster.sh, about 5 minutes the first time) or point OPSAGENT_CLUSTER_BIN at a folder that has them",
			ErrMissingBinary, strings.Join(missing, ", "), dir)
	}
	return nil
}

// Down stops every process the sandbox in dir started, waits until they have
// exited and their ports are free, and removes the record of them. The data
// (etcd, volumes, PKI) stays unless purge is set.
func Down(ctx context.Context, dir string, purge bool) error {
	st, err := LoadState(dir)
	if err != nil {
		if errors.Is(err, ErrNotRunning) && purge {
			return os.RemoveAll(dir)
		}
		return err
	}
	var errs []error
	// Reverse start order: clients first, storage last.
	for i := len(st.Processes) - 1; i >= 0; i-- {
		if err := st.Processes[i].stop(15 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(st.Ports.bound()) > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if b := st.Ports.bound(); len(b) > 0 {
		errs = append(errs, fmt.Errorf("ports still bound after stopping the sandbox: %v (another program may hold them)", b))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if purge {
		return os.RemoveAll(dir)
	}
	return os.Remove(stateFile(dir))
}

func itoa(i int) string { return strconv.Itoa(i) }

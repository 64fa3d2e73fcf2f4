package sandbox

import (
	"os"
	"path/filepath"
)

// KubernetesVersion is the control-plane version the sandbox runs; the
// binaries are built for it by hack/build-cluster.sh.
const KubernetesVersion = "v1.37.2"

// DefaultName is the sandbox used when --name is not given.
const DefaultName = "default"

// StateRoot is where sandboxes keep their state: $XDG_STATE_HOME/opsagent/sandbox.
func StateRoot() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "opsagent", "sandbox")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "opsagent", "sandbox")
	}
	return filepath.Join(home, ".local", "state", "opsagent", "sandbox")
}

// StateDir is the folder of the named sandbox.
func StateDir(name string) string { return filepath.Join(StateRoot(), name) }

// KubeconfigPath is where the named sandbox writes its kubeconfig.
func KubeconfigPath(name string) string { return filepath.Join(StateDir(name), "kubeconfig") }

// DefaultBinDir is where hack/build-cluster.sh puts the binaries:
// $OPSAGENT_CLUSTER_BIN, else $XDG_CACHE_HOME/opsagent/cluster/<version>/bin.
func DefaultBinDir() string {
	if d := os.Getenv("OPSAGENT_CLUSTER_BIN"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache")
		} else {
			cache = os.TempDir()
		}
	}
	return filepath.Join(cache, "opsagent", "cluster", KubernetesVersion, "bin")
}

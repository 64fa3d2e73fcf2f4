package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/pflag"

	"github.com/opsagent/opsagent/internal/sandbox"
)

// binariesEnv names a binaries tarball for every `sandbox up`, as --binaries does.
const binariesEnv = "OPSAGENT_CLUSTER_BINARIES"

// sandboxBinaries are the flags of `sandbox up` that install prebuilt
// control-plane binaries from a release instead of building them.
type sandboxBinaries struct {
	Source string
	SHA256 string
}

func (b *sandboxBinaries) addFlags(f *pflag.FlagSet) {
	f.StringVar(&b.Source, "binaries", os.Getenv(binariesEnv),
		"install the control-plane binaries from this release tarball (file or http(s) URL) when they are missing; default $"+binariesEnv)
	f.StringVar(&b.SHA256, "binaries-sha256", "",
		"expected SHA-256 of --binaries (default: the sum this release was built with)")
}

// install puts the tarball's binaries into binDir when some are missing.
func (b *sandboxBinaries) install(ctx context.Context, binDir string, progress io.Writer) error {
	if b.Source == "" {
		return nil
	}
	_, err := sandbox.InstallBinaries(ctx, sandbox.InstallOptions{Source: b.Source, SHA256: b.SHA256, BinDir: binDir, Progress: progress})
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("sandbox up: install the control-plane binaries: %w", err)}
	}
	return nil
}

// withBinariesHint adds the release route to a missing-binaries error, whose
// own text names only the build from source.
func withBinariesHint(err error) error {
	if !errors.Is(err, sandbox.ErrMissingBinary) {
		return err
	}
	return fmt.Errorf("%w; with a release, install its prebuilt binaries instead: opsagent sandbox up --binaries %s",
		err, sandbox.BinariesArchiveName(runtime.GOOS, runtime.GOARCH))
}

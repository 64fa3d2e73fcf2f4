// Command packcluster writes the sandbox's control-plane binaries tarball for
// a release (hack/release.sh): the binaries hack/build-cluster.sh built,
// packed by the same package that installs them (internal/sandbox), so the
// format has one definition.
//
//	go run ./hack/packcluster -bin-dir DIR -o DIST_DIR
//
// It prints the path of the tarball it wrote.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opsagent/opsagent/internal/sandbox"
)

func main() {
	binDir := flag.String("bin-dir", sandbox.DefaultBinDir(), "folder with the control-plane binaries")
	outDir := flag.String("o", "dist", "folder to write the tarball into")
	flag.Parse()
	path, err := pack(*binDir, *outDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "packcluster:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

func pack(binDir, outDir string) (string, error) {
	tmp, err := os.CreateTemp(outDir, ".cluster-*.tar.gz")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the rename; cleans up on failure
	goos, goarch, err := sandbox.PackBinaries(tmp, binDir)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	path := filepath.Join(outDir, sandbox.BinariesArchiveName(goos, goarch))
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

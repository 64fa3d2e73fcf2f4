package sandbox

// Prebuilt control-plane binaries: `make release` packs the binaries that
// hack/build-cluster.sh built (PackBinaries) into a versioned tarball, and
// `opsagent sandbox up --binaries FILE|URL` installs one into the cache after
// checking its SHA-256 (InstallBinaries), so a newcomer with a release does not
// compile Kubernetes. Building from source stays the fallback.

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// releaseBinariesSHA256 is the SHA-256 of the binaries tarball released with
// this build, stamped by hack/release.sh with -ldflags -X, so that a release
// binary trusts only the tarball it was released with. Empty in builds from
// source, which must be given the sum.
var releaseBinariesSHA256 = ""

// PinnedBinariesSHA256 is the SHA-256 of the binaries tarball this build was
// released with, or "" for a build from source.
func PinnedBinariesSHA256() string { return releaseBinariesSHA256 }

// bundledBinaries are the files a binaries tarball carries: what Up needs,
// plus kubectl (hack/build-cluster.sh builds it, and it is how a user reaches
// opsagent as a kubectl plugin).
func bundledBinaries() []string {
	return slices.Sorted(slices.Values(append(slices.Clone(requiredBinaries), "kubectl")))
}

const binariesManifestName = "manifest.json"

// binariesManifest is the first entry of a binaries tarball: what the
// binaries are for, and each one's SHA-256 so extraction verifies every file
// and not only the tarball.
type binariesManifest struct {
	KubernetesVersion string            `json:"kubernetesVersion"`
	OS                string            `json:"os"`
	Arch              string            `json:"arch"`
	Files             map[string]string `json:"files"` // binary name → hex SHA-256
}

// BinariesArchiveName is the file name of the binaries tarball for a platform,
// e.g. opsagent-cluster-v1.37.2-linux-amd64.tar.gz.
func BinariesArchiveName(goos, goarch string) string {
	return fmt.Sprintf("opsagent-cluster-%s-%s-%s.tar.gz", KubernetesVersion, goos, goarch)
}

// PackBinaries writes a binaries tarball of the bundled binaries in binDir to
// w and returns the platform they were built for, read from each binary's Go
// build information. The output depends only on the binaries' content (fixed
// modes, owners and times, sorted entries, no gzip name or time), so packing
// the same binaries twice gives the same bytes.
func PackBinaries(w io.Writer, binDir string) (goos, goarch string, err error) {
	m := binariesManifest{KubernetesVersion: KubernetesVersion, Files: map[string]string{}}
	names := bundledBinaries()
	for _, name := range names {
		path := filepath.Join(binDir, name)
		bi, err := buildinfo.ReadFile(path)
		if err != nil {
			return "", "", fmt.Errorf("read Go build information of %s (build the binaries with `make cluster`): %w", path, err)
		}
		var bos, barch string
		for _, s := range bi.Settings {
			switch s.Key {
			case "GOOS":
				bos = s.Value
			case "GOARCH":
				barch = s.Value
			}
		}
		if m.OS == "" {
			m.OS, m.Arch = bos, barch
		} else if bos != m.OS || barch != m.Arch {
			return "", "", fmt.Errorf("%s is built for %s/%s but %s is for %s/%s: rebuild the folder %s for one platform", name, bos, barch, names[0], m.OS, m.Arch, binDir)
		}
		sum, err := fileSHA256(path)
		if err != nil {
			return "", "", err
		}
		m.Files[name] = sum
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", "", err
	}

	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return "", "", err
	}
	tw := tar.NewWriter(zw)
	// Fixed metadata: the tarball must not depend on who packed it, or when.
	header := func(name string, mode, size int64) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Size: size, ModTime: time.Unix(0, 0).UTC(), Format: tar.FormatPAX, Uname: "root", Gname: "root"}
	}
	if err := tw.WriteHeader(header(binariesManifestName, 0o644, int64(len(manifest)))); err != nil {
		return "", "", err
	}
	if _, err := tw.Write(manifest); err != nil {
		return "", "", err
	}
	for _, name := range names {
		if err := addFile(tw, header, filepath.Join(binDir, name), "bin/"+name); err != nil {
			return "", "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", "", err
	}
	if err := zw.Close(); err != nil {
		return "", "", err
	}
	return m.OS, m.Arch, nil
}

func addFile(tw *tar.Writer, header func(string, int64, int64) *tar.Header, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // read-only: a close error loses nothing
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(header(name, 0o755, st.Size())); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("pack %s: %w", path, err)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }() // read-only
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ErrBinariesChecksum is returned by InstallBinaries when the tarball is not
// the one expected, or a file in it does not match its manifest.
var ErrBinariesChecksum = errors.New("checksum mismatch")

// InstallOptions says where InstallBinaries takes a tarball from and how it
// verifies it.
type InstallOptions struct {
	// Source is a file path or an http(s) URL of a binaries tarball.
	Source string
	// SHA256 is the tarball's expected hex SHA-256; empty means the sum
	// pinned in this build (PinnedBinariesSHA256).
	SHA256 string
	// BinDir receives the binaries (default DefaultBinDir()).
	BinDir string
	// Force installs even when every binary is already present.
	Force bool
	// Progress receives one line per step; nil discards.
	Progress io.Writer
}

// InstallBinaries installs the control-plane binaries from a binaries tarball
// into BinDir, unless they are all present already (then it returns false).
// Nothing is installed unless the tarball's SHA-256 matches, its manifest is
// for this Kubernetes version and platform, and every file matches its sum;
// each binary is moved into place whole, so an interrupted install never
// leaves a half-written binary that the presence check would accept.
func InstallBinaries(ctx context.Context, o InstallOptions) (installed bool, err error) {
	if o.BinDir == "" {
		o.BinDir = DefaultBinDir()
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if !o.Force && checkBinaries(o.BinDir) == nil {
		_, _ = fmt.Fprintf(o.Progress, "control-plane binaries already present in %s; not installing %s\n", o.BinDir, o.Source)
		return false, nil
	}
	want := strings.ToLower(strings.TrimSpace(o.SHA256))
	if want == "" {
		want = PinnedBinariesSHA256()
	}
	if want == "" {
		return false, fmt.Errorf("cannot verify %s: this opsagent was built from source and pins no binaries tarball; pass --binaries-sha256 with the tarball's sum from the release's checksums.txt, or build the binaries with `make cluster`", o.Source)
	}
	if len(want) != sha256.Size*2 {
		return false, fmt.Errorf("expected SHA-256 %q is not 64 hex digits", want)
	}
	if err := os.MkdirAll(o.BinDir, 0o755); err != nil {
		return false, fmt.Errorf("create %s: %w", o.BinDir, err)
	}
	// The download and the staging folder live inside BinDir so that the
	// final renames stay on one file system.
	tmp, err := os.MkdirTemp(o.BinDir, ".install-")
	if err != nil {
		return false, fmt.Errorf("create a staging folder in %s: %w", o.BinDir, err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	archive := filepath.Join(tmp, "binaries.tar.gz")
	got, err := fetch(ctx, o.Source, archive, o.Progress)
	if err != nil {
		return false, err
	}
	if got != want {
		return false, fmt.Errorf("%w: %s has SHA-256 %s, want %s; it is damaged or from another release: download it again from the release this opsagent came from (`opsagent version`)",
			ErrBinariesChecksum, o.Source, got, want)
	}
	_, _ = fmt.Fprintf(o.Progress, "verified SHA-256 %s\n", got)

	m, err := extractBinaries(archive, tmp)
	if err != nil {
		return false, fmt.Errorf("unpack %s: %w", o.Source, err)
	}
	names := slices.Sorted(maps.Keys(m.Files))
	for _, n := range names {
		if err := os.Rename(filepath.Join(tmp, n), filepath.Join(o.BinDir, n)); err != nil {
			return false, fmt.Errorf("install %s into %s: %w", n, o.BinDir, err)
		}
	}
	_, _ = fmt.Fprintf(o.Progress, "installed %s into %s\n", strings.Join(names, ", "), o.BinDir)
	return true, nil
}

// fetch copies src (a path or an http(s) URL) to dst and returns its hex SHA-256.
func fetch(ctx context.Context, src, dst string, progress io.Writer) (sum string, err error) {
	var r io.ReadCloser
	if strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return "", fmt.Errorf("download %s: %w", src, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", fmt.Errorf("download %s: %w; without network, download the file elsewhere and pass its path", src, err)
		}
		if resp.StatusCode != http.StatusOK {
			_ = resp.Body.Close()
			return "", fmt.Errorf("download %s: %s", src, resp.Status)
		}
		_, _ = fmt.Fprintf(progress, "downloading %s (%d MB)\n", src, max(resp.ContentLength, 0)>>20)
		r = resp.Body
	} else {
		f, err := os.Open(src)
		if err != nil {
			return "", fmt.Errorf("open the binaries tarball: %w", err)
		}
		r = f
	}
	defer func() { _ = r.Close() }() // read side: the sum below decides

	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), contextReader{ctx, r}); err != nil {
		_ = out.Close()
		return "", fmt.Errorf("read %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", dst, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// contextReader stops a long copy when ctx is cancelled (Ctrl-C).
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// extractBinaries unpacks a verified tarball into dir (flat) and checks it is
// for this Kubernetes version and platform, carries every binary Up needs,
// and that each file matches the manifest.
func extractBinaries(archive, dir string) (*binariesManifest, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)

	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("read the first entry: %w", err)
	}
	if hdr.Name != binariesManifestName {
		return nil, fmt.Errorf("first entry is %q, want %s: not an opsagent binaries tarball", hdr.Name, binariesManifestName)
	}
	var m binariesManifest
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil {
		return nil, fmt.Errorf("read %s: %w", binariesManifestName, err)
	}
	if m.KubernetesVersion != KubernetesVersion || m.OS != runtime.GOOS || m.Arch != runtime.GOARCH {
		return nil, fmt.Errorf("it holds Kubernetes %s for %s/%s, but this opsagent runs Kubernetes %s on %s/%s: use %s",
			m.KubernetesVersion, m.OS, m.Arch, KubernetesVersion, runtime.GOOS, runtime.GOARCH, BinariesArchiveName(runtime.GOOS, runtime.GOARCH))
	}
	for _, b := range requiredBinaries {
		if _, ok := m.Files[b]; !ok {
			return nil, fmt.Errorf("it lacks %s, which this opsagent needs: use the tarball of the same release", b)
		}
	}

	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		name, ok := strings.CutPrefix(hdr.Name, "bin/")
		want, listed := m.Files[name]
		// Only regular files the manifest lists, by plain name: nothing a
		// crafted archive could use to write outside dir.
		if !ok || !listed || hdr.Typeflag != tar.TypeReg || name != filepath.Base(name) || seen[name] {
			return nil, fmt.Errorf("unexpected entry %q", hdr.Name)
		}
		seen[name] = true
		got, err := writeExecutable(filepath.Join(dir, name), tr)
		if err != nil {
			return nil, err
		}
		if got != want {
			return nil, fmt.Errorf("%w: %s has SHA-256 %s, its manifest says %s", ErrBinariesChecksum, name, got, want)
		}
	}
	for name := range m.Files {
		if !seen[name] {
			return nil, fmt.Errorf("%s is listed in the manifest but missing", name)
		}
	}
	return &m, nil
}

func writeExecutable(path string, r io.Reader) (sum string, err error) {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), r); err != nil {
		_ = out.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

package sandbox

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tinyGoBinary builds a small Go program for this platform: PackBinaries
// reads each binary's Go build information, so the fakes must be Go binaries.
func tinyGoBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "tiny")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// fakeBinDir is a folder with every bundled binary, each a link to one small
// Go binary.
func fakeBinDir(t *testing.T) string {
	t.Helper()
	bin := tinyGoBinary(t)
	dir := t.TempDir()
	for _, n := range bundledBinaries() {
		if err := os.Symlink(bin, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPackInstallRoundTrip(t *testing.T) {
	t.Parallel()
	src := fakeBinDir(t)
	var a, b bytes.Buffer
	goos, goarch, err := PackBinaries(&a, src)
	if err != nil {
		t.Fatal(err)
	}
	if goos != runtime.GOOS || goarch != runtime.GOARCH {
		t.Errorf("platform %s/%s, want %s/%s", goos, goarch, runtime.GOOS, runtime.GOARCH)
	}
	if _, _, err := PackBinaries(&b, src); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("packing the same binaries twice gave different bytes")
	}
	archive := filepath.Join(t.TempDir(), BinariesArchiveName(goos, goarch))
	if err := os.WriteFile(archive, a.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := hexSum(a.Bytes())

	dst := filepath.Join(t.TempDir(), "bin")
	var progress bytes.Buffer
	installed, err := InstallBinaries(context.Background(), InstallOptions{Source: archive, SHA256: strings.ToUpper(sum), BinDir: dst, Progress: &progress})
	if err != nil || !installed {
		t.Fatalf("InstallBinaries = %v, %v; progress:\n%s", installed, err, progress.String())
	}
	want, err := os.ReadFile(filepath.Join(src, "kwok"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range bundledBinaries() {
		p := filepath.Join(dst, n)
		st, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s: mode %v, want an executable regular file", n, st.Mode())
		}
		if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
			t.Errorf("%s: content differs from the packed binary", n)
		}
	}
	assertOnlyBinaries(t, dst)
	if err := checkBinaries(dst); err != nil {
		t.Errorf("after install: %v", err)
	}

	// Present binaries are left alone (and the source is not even read).
	installed, err = InstallBinaries(context.Background(), InstallOptions{Source: "/nonexistent.tar.gz", SHA256: sum, BinDir: dst})
	if err != nil || installed {
		t.Errorf("second install = %v, %v; want false, nil", installed, err)
	}
}

// assertOnlyBinaries fails if dir holds anything but binaries, such as a
// staging folder left behind.
func assertOnlyBinaries(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // never created: also clean
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("%s left behind in %s", e.Name(), dir)
		}
	}
}

type entry struct {
	name string
	body []byte
	typ  byte
}

func tarGz(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Mode: 0o755, Size: int64(len(e.body)), Typeflag: typ}
		if typ != tar.TypeReg {
			h.Size, h.Linkname = 0, "/etc/passwd"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// craft builds a tarball with a manifest for every bundled binary, after
// edit has had its way with the manifest and the entries.
func craft(t *testing.T, edit func(m *binariesManifest, files []entry) []entry) []byte {
	t.Helper()
	m := binariesManifest{KubernetesVersion: KubernetesVersion, OS: runtime.GOOS, Arch: runtime.GOARCH, Files: map[string]string{}}
	var files []entry
	for _, n := range bundledBinaries() {
		body := []byte("#!/bin/sh\necho " + n + "\n")
		m.Files[n] = hexSum(body)
		files = append(files, entry{name: "bin/" + n, body: body})
	}
	if edit != nil {
		files = edit(&m, files)
	}
	mj, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return tarGz(t, append([]entry{{name: binariesManifestName, body: mj}}, files...)...)
}

func TestInstallBinariesRefuses(t *testing.T) {
	t.Parallel()
	good := craft(t, nil)
	tests := []struct {
		name    string
		archive []byte
		sum     string // default: the archive's own
		wantIs  error
		wantMsg string
	}{
		{name: "another tarball than expected", archive: good, sum: strings.Repeat("ab", 32), wantIs: ErrBinariesChecksum, wantMsg: "from another release"},
		{name: "malformed expected sum", archive: good, sum: "1234", wantMsg: "not 64 hex digits"},
		{name: "file differs from its manifest", wantIs: ErrBinariesChecksum, wantMsg: "kwok has SHA-256",
			archive: craft(t, func(_ *binariesManifest, files []entry) []entry {
				for i := range files {
					if files[i].name == "bin/kwok" {
						files[i].body = []byte("tampered")
					}
				}
				return files
			})},
		{name: "other Kubernetes version", wantMsg: "holds Kubernetes v0.0.1",
			archive: craft(t, func(m *binariesManifest, files []entry) []entry { m.KubernetesVersion = "v0.0.1"; return files })},
		{name: "other platform", wantMsg: "for plan9/mips",
			archive: craft(t, func(m *binariesManifest, files []entry) []entry { m.OS, m.Arch = "plan9", "mips"; return files })},
		{name: "a needed binary is missing", wantMsg: "lacks kube-apiserver",
			archive: craft(t, func(m *binariesManifest, files []entry) []entry { delete(m.Files, "kube-apiserver"); return files[1:] })},
		{name: "listed but absent", wantMsg: "listed in the manifest but missing",
			archive: craft(t, func(_ *binariesManifest, files []entry) []entry { return files[:len(files)-1] })},
		{name: "path traversal", wantMsg: "unexpected entry",
			archive: craft(t, func(m *binariesManifest, files []entry) []entry {
				m.Files["../evil"] = hexSum([]byte("x"))
				return append(files, entry{name: "bin/../evil", body: []byte("x")})
			})},
		{name: "symlink entry", wantMsg: "unexpected entry",
			archive: craft(t, func(_ *binariesManifest, files []entry) []entry {
				files[0].typ = tar.TypeSymlink
				return files
			})},
		{name: "no manifest first", archive: tarGz(t, entry{name: "bin/etcd", body: []byte("x")}), wantMsg: "not an opsagent binaries tarball"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			archive := filepath.Join(t.TempDir(), "b.tar.gz")
			if err := os.WriteFile(archive, tt.archive, 0o644); err != nil {
				t.Fatal(err)
			}
			sum := tt.sum
			if sum == "" {
				sum = hexSum(tt.archive)
			}
			dst := t.TempDir()
			installed, err := InstallBinaries(context.Background(), InstallOptions{Source: archive, SHA256: sum, BinDir: dst})
			if err == nil || installed {
				t.Fatalf("InstallBinaries = %v, %v; want a refusal", installed, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q lacks %q", err, tt.wantMsg)
			}
			entries, _ := os.ReadDir(dst)
			if len(entries) != 0 {
				t.Errorf("refused install left %d entries in %s (first %s)", len(entries), dst, entries[0].Name())
			}
		})
	}
}

func TestInstallBinariesNeedsASum(t *testing.T) {
	t.Parallel()
	if PinnedBinariesSHA256() != "" {
		t.Skip("this test binary is stamped with a release sum")
	}
	_, err := InstallBinaries(context.Background(), InstallOptions{Source: "x.tar.gz", BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "--binaries-sha256") {
		t.Errorf("want an error naming --binaries-sha256, got %v", err)
	}
}

func TestInstallBinariesFromURL(t *testing.T) {
	t.Parallel()
	archive := craft(t, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/release/"+BinariesArchiveName(runtime.GOOS, runtime.GOARCH) {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(archive)
	}))
	t.Cleanup(srv.Close)

	dst := t.TempDir()
	url := srv.URL + "/release/" + BinariesArchiveName(runtime.GOOS, runtime.GOARCH)
	installed, err := InstallBinaries(context.Background(), InstallOptions{Source: url, SHA256: hexSum(archive), BinDir: dst})
	if err != nil || !installed {
		t.Fatalf("InstallBinaries(%s) = %v, %v", url, installed, err)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "etcd")); string(got) != "#!/bin/sh\necho etcd\n" {
		t.Errorf("etcd = %q", got)
	}

	_, err = InstallBinaries(context.Background(), InstallOptions{Source: srv.URL + "/missing.tar.gz", SHA256: hexSum(archive), BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing URL: want a 404 error, got %v", err)
	}
}

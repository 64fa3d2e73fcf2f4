package releasetools

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/opsagent/opsagent/charts"
	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
)

// Caps on what helm_deploy reads from disk, whoever names the paths.
const (
	maxChartFileBytes  = 1 << 20   // each file of a chart
	maxChartBytes      = 10 << 20  // a chart's files together, and a .tgz
	maxValuesFileBytes = 256 << 10 // each values file
)

// chartSource is the chart and values files of one helm_deploy call, read
// from disk once, in Prepare. The preview renders them and Run deploys the
// same bytes: nothing is read again, so a file changed after the preview
// cannot slip into the release.
type chartSource struct {
	// label says where the chart came from, for the preview.
	label  string
	files  []*loader.BufferedFile
	values []release.ValuesFile
	// digest is the SHA-256 of the chart's files and the values files.
	digest string
}

// chart loads a new chart from the files read in Prepare. Each call
// returns a fresh chart, since Helm may modify the one it is given.
func (s *chartSource) chart() (*chart.Chart, error) {
	files := make([]*loader.BufferedFile, len(s.files))
	for i, f := range s.files {
		files[i] = &loader.BufferedFile{Name: f.Name, Data: slices.Clone(f.Data)}
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("%w: load chart %s: %v", tools.ErrInvalidArgs, s.label, err)
	}
	return ch, nil
}

// describe is the preview's line about the source: what was read and its
// digest, so that a reviewer can tell it is what they meant.
func (s *chartSource) describe() string {
	var names []string
	for _, v := range s.values {
		names = append(names, v.Name)
	}
	line := fmt.Sprintf("Chart %s (%d files)", s.label, len(s.files))
	if len(names) > 0 {
		line += ", values files " + strings.Join(names, ", ")
	}
	return line + "; content sha256:" + s.digest
}

// readSource reads the chart and values files a call names, within the
// roots the user allowed. The built-in chart needs no root.
func (o Options) readSource(a DeployArgs) (*chartSource, error) {
	src := &chartSource{}
	var err error
	switch a.ChartPath {
	case "":
		src.label = "built-in " + charts.TodoChatbotName
		src.files, err = charts.Files(charts.TodoChatbotFS())
		if err != nil {
			return nil, fmt.Errorf("read the built-in chart: %w", err)
		}
	default:
		src.label = a.ChartPath
		if src.files, err = o.readChart(a.ChartPath); err != nil {
			return nil, err
		}
	}
	for _, f := range a.ValuesFiles {
		data, err := o.readFile(f, "values_files", maxValuesFileBytes)
		if err != nil {
			return nil, err
		}
		src.values = append(src.values, release.ValuesFile{Name: f, Data: data})
	}
	src.digest = digest(src.files, src.values)
	return src, nil
}

// digest hashes the chart's files in name order, then the values files in
// the order given, each with its name and length so that no two inputs
// collide by shifting bytes between files.
func digest(files []*loader.BufferedFile, values []release.ValuesFile) string {
	h := sha256.New()
	sorted := slices.SortedFunc(slices.Values(files), func(a, b *loader.BufferedFile) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range sorted {
		_, _ = fmt.Fprintf(h, "chart %q %d\n", f.Name, len(f.Data)) // a hash.Hash never fails a write
		h.Write(f.Data)
	}
	for _, v := range values {
		_, _ = fmt.Fprintf(h, "values %q %d\n", v.Name, len(v.Data))
		h.Write(v.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readChart reads a chart folder or .tgz at path into memory.
func (o Options) readChart(path string) ([]*loader.BufferedFile, error) {
	real, err := o.resolve(path, "chart_path")
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("%w: chart_path %s: %w", tools.ErrInvalidArgs, path, err)
	}
	if !fi.IsDir() {
		data, err := o.readFile(path, "chart_path", maxChartBytes)
		if err != nil {
			return nil, err
		}
		files, err := loader.LoadArchiveFiles(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: chart_path %s is neither a chart folder nor a chart archive: %v", tools.ErrInvalidArgs, path, err)
		}
		total := 0
		for _, f := range files {
			total += len(f.Data)
			if len(f.Data) > maxChartFileBytes || total > maxChartBytes {
				return nil, fmt.Errorf("%w: chart_path %s: %s unpacks past the limits (%s a file, %s a chart)",
					tools.ErrInvalidArgs, path, f.Name, sizeOf(maxChartFileBytes), sizeOf(maxChartBytes))
			}
		}
		return files, nil
	}
	bfs := &boundedFS{opts: o, dir: real, label: path}
	files, err := charts.Files(bfs)
	if err != nil {
		if errors.Is(err, tools.ErrInvalidArgs) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: chart_path %s: %v", tools.ErrInvalidArgs, path, err)
	}
	return files, nil
}

// boundedFS is a chart folder read through the roots and caps: every file
// is read with Options.readFile (symlinks resolved and checked, regular
// files only, at most maxChartFileBytes), and the files together may not
// exceed maxChartBytes. charts.Files walks it with ReadDir and Stat, which
// do not follow symlinks, and reads it with ReadFile.
type boundedFS struct {
	opts  Options
	dir   string // resolved
	label string // as given
	total int64
}

var (
	_ fs.ReadFileFS = (*boundedFS)(nil)
	_ fs.ReadDirFS  = (*boundedFS)(nil)
	_ fs.StatFS     = (*boundedFS)(nil)
)

// Open is refused: charts.Files reads only through ReadFile, ReadDir and
// Stat, so nothing bypasses the checks.
func (b *boundedFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: errors.ErrUnsupported}
}

func (b *boundedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(os.DirFS(b.dir), name)
}

func (b *boundedFS) Stat(name string) (fs.FileInfo, error) {
	return fs.Stat(os.DirFS(b.dir), name)
}

func (b *boundedFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	data, err := b.opts.readFile(filepath.Join(b.dir, filepath.FromSlash(name)), "chart_path "+b.label+": file", maxChartFileBytes)
	if err != nil {
		return nil, err
	}
	b.total += int64(len(data))
	if b.total > maxChartBytes {
		return nil, fmt.Errorf("%w: chart_path %s holds more than %s of files; only charts up to that size are read",
			tools.ErrInvalidArgs, b.label, sizeOf(maxChartBytes))
	}
	return data, nil
}

// readFile reads path if, symlinks resolved, it is a regular file of at
// most limit bytes inside the roots. what names the argument for messages.
// A missing file's error wraps fs.ErrNotExist (a chart's optional
// .helmignore may be absent).
func (o Options) readFile(path, what string, limit int64) ([]byte, error) {
	real, err := o.resolve(path, what)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %w", tools.ErrInvalidArgs, what, path, err)
	}
	defer func() { _ = f.Close() }() // read-only
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %w", tools.ErrInvalidArgs, what, path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s %s is not a regular file (%s); only regular files are read",
			tools.ErrInvalidArgs, what, path, fi.Mode().Type())
	}
	tooBig := fmt.Errorf("%w: %s %s is larger than %s; only files up to that size are read",
		tools.ErrInvalidArgs, what, path, sizeOf(limit))
	if fi.Size() > limit {
		return nil, tooBig
	}
	// Read at most one byte past the limit, in case the file grew.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", what, path, err)
	}
	if int64(len(data)) > limit {
		return nil, tooBig
	}
	return data, nil
}

// resolve makes path absolute, resolves its symlinks, and checks that the
// result lies inside one of the roots (themselves resolved).
func (o Options) resolve(path, what string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("%w: %s %s: %w", tools.ErrInvalidArgs, what, path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("%w: %s %s: %w", tools.ErrInvalidArgs, what, path, err)
	}
	for _, root := range o.ChartRoots {
		r, err := filepath.EvalSymlinks(root)
		if err != nil {
			continue // a root that vanished allows nothing
		}
		if r, err = filepath.Abs(r); err == nil && within(real, r) {
			return real, nil
		}
	}
	if len(o.ChartRoots) == 0 {
		return "", fmt.Errorf("%w: %s %s: no chart folder was allowed, so only the built-in %s chart can be deployed; "+
			"re-run with %s naming the folder that holds it", tools.ErrInvalidArgs, what, path, charts.TodoChatbotName, o.rootsFlag())
	}
	where := ""
	if real != abs {
		where = " (it resolves to " + real + ")"
	}
	return "", fmt.Errorf("%w: %s %s is outside the folders named with %s (%s)%s; re-run with %s naming the folder that holds it",
		tools.ErrInvalidArgs, what, path, o.rootsFlag(), strings.Join(o.ChartRoots, ", "), where, o.rootsFlag())
}

// within reports whether path is root or lies under it; both are clean
// absolute paths.
func within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// sizeOf formats a byte count the way the caps are stated: 256 KiB, 1 MiB.
func sizeOf(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

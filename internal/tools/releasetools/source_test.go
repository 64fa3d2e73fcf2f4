package releasetools

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/tools"
)

// configMapChart is a tiny chart: ConfigMap <release>-a always, with the
// value note; ConfigMap <release>-b while the value b is true (the default).
var configMapChart = map[string]string{
	"values.yaml": "b: true\n",
	"templates/a.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-a
data:
  note: {{ .Values.note | default "none" | quote }}
`,
	"templates/b.yaml": `{{- if .Values.b }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-b
data: {}
{{- end }}
`,
}

// writeChart writes a chart named name with files (path → content) into
// dir/name and returns its folder.
func writeChart(t *testing.T, dir, name string, files map[string]string) string {
	t.Helper()
	root := filepath.Join(dir, name)
	all := map[string]string{"Chart.yaml": "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n"}
	for k, v := range files {
		all[k] = v
	}
	for path, content := range all {
		writeFile(t, filepath.Join(root, path), content)
	}
	return root
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestReadSourceRefuses(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root := filepath.Join(base, "allowed")
	inside := writeChart(t, root, "inside", configMapChart)
	outside := writeChart(t, filepath.Join(base, "elsewhere"), "outside", configMapChart)
	secret := filepath.Join(base, "elsewhere", "secret.yaml")
	writeFile(t, secret, "password: hunter2\n")

	// A symlink in the root to a chart outside it.
	symlink(t, outside, filepath.Join(root, "link-to-outside"))
	// A chart inside the root whose template links to a file outside it.
	leaky := writeChart(t, root, "leaky", configMapChart)
	symlink(t, secret, filepath.Join(leaky, "templates", "stolen.yaml"))
	// A values file over the cap, one that links outside, and a folder.
	big := filepath.Join(root, "big.yaml")
	writeFile(t, big, "k: "+strings.Repeat("x", maxValuesFileBytes)+"\n")
	symlink(t, secret, filepath.Join(root, "values-link.yaml"))
	// A chart with one file over the per-file cap.
	fat := writeChart(t, root, "fat", map[string]string{"templates/fat.yaml": "# " + strings.Repeat("x", maxChartFileBytes)})

	opts := Options{ChartRoots: []string{root}}
	tests := []struct {
		name    string
		opts    Options
		args    DeployArgs
		wantMsg string
	}{
		{"chart outside the roots", opts, DeployArgs{ChartPath: outside}, "outside the folders named with --chart-dir"},
		{"relative path climbing out", opts, DeployArgs{ChartPath: filepath.Join(root, "..", "elsewhere", "outside")}, "outside the folders"},
		{"no roots at all", Options{}, DeployArgs{ChartPath: inside}, "only the built-in todo-chatbot chart"},
		{"symlink from the root to outside", opts, DeployArgs{ChartPath: filepath.Join(root, "link-to-outside")}, "it resolves to " + outside},
		{"chart file linking outside", opts, DeployArgs{ChartPath: leaky}, "stolen.yaml is outside the folders"},
		{"values file outside", opts, DeployArgs{ValuesFiles: []string{secret}}, "values_files " + secret + " is outside"},
		{"values file linking outside", opts, DeployArgs{ValuesFiles: []string{filepath.Join(root, "values-link.yaml")}}, "is outside"},
		{"values file too big", opts, DeployArgs{ValuesFiles: []string{big}}, "larger than 256 KiB"},
		{"values file is a folder", opts, DeployArgs{ValuesFiles: []string{root}}, "not a regular file"},
		{"chart file too big", opts, DeployArgs{ChartPath: fat}, "larger than 1 MiB"},
		{"missing chart", opts, DeployArgs{ChartPath: filepath.Join(root, "nope")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.opts.readSource(tt.args)
			if !errors.Is(err, tools.ErrInvalidArgs) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("readSource error = %v; want ErrInvalidArgs saying %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the refusal leaks the file's content: %v", err)
			}
		})
	}
}

func TestReadSourceReadsOnce(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := writeChart(t, root, "mine", configMapChart)
	values := filepath.Join(root, "values.yaml")
	writeFile(t, values, "note: first\n")
	// A symlink that stays inside the root is fine.
	symlink(t, dir, filepath.Join(root, "alias"))

	opts := Options{ChartRoots: []string{root}}
	src, err := opts.readSource(DeployArgs{ChartPath: filepath.Join(root, "alias"), ValuesFiles: []string{values}})
	if err != nil {
		t.Fatal(err)
	}
	// Change everything on disk: the source keeps what it read.
	writeFile(t, filepath.Join(dir, "templates", "a.yaml"), "changed")
	writeFile(t, values, "note: second\n")
	ch, err := src.chart()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := ch.Templates[0]
	for _, f := range ch.Templates {
		if f.Name == "templates/a.yaml" {
			tmpl = f
		}
	}
	if !bytes.Contains(tmpl.Data, []byte("kind: ConfigMap")) {
		t.Errorf("template after the disk changed = %q, want the content read first", tmpl.Data)
	}
	if string(src.values[0].Data) != "note: first\n" {
		t.Errorf("values = %q, want the content read first", src.values[0].Data)
	}
	if !strings.Contains(src.describe(), "sha256:"+src.digest) || len(src.digest) != 64 {
		t.Errorf("describe() = %q, digest %q", src.describe(), src.digest)
	}

	// The digest follows the bytes.
	again, err := opts.readSource(DeployArgs{ChartPath: dir, ValuesFiles: []string{values}})
	if err != nil {
		t.Fatal(err)
	}
	if again.digest == src.digest {
		t.Error("digest did not change with the files")
	}

	// The built-in chart needs no root.
	builtin, err := Options{}.readSource(DeployArgs{})
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := builtin.chart(); err != nil || ch.Name() != "todo-chatbot" {
		t.Errorf("built-in chart = %v, %v", ch, err)
	}
}

func TestWithin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, root string
		want       bool
	}{
		{"/a/b", "/a", true},
		{"/a", "/a", true},
		{"/ab", "/a", false},
		{"/a/../b", "/a", false},
		{"/b", "/a", false},
		{"/a/..b", "/a", true},
		{"/x", "/", true},
	}
	for _, tt := range tests {
		if got := within(filepath.Clean(tt.path), tt.root); got != tt.want {
			t.Errorf("within(%q, %q) = %v, want %v", tt.path, tt.root, got, tt.want)
		}
	}
}

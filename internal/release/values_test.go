package release

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestValuesMerge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("base.yaml", "backend:\n  replicaCount: 1\n  image:\n    tag: v1\n    repository: todo\nlogLevel: info\n")
	prod := write("prod.yaml", "backend:\n  image:\n    tag: v2\nlogLevel: warning\n")
	bad := write("bad.yaml", "backend: [unclosed\n")

	tests := []struct {
		name    string
		values  Values
		want    map[string]any
		wantErr string
	}{
		{name: "nothing", values: Values{}, want: map[string]any{}},
		{
			name:   "later files win, maps merge key by key",
			values: Values{Files: []string{base, prod}},
			want: map[string]any{
				"backend":  map[string]any{"replicaCount": float64(1), "image": map[string]any{"tag": "v2", "repository": "todo"}},
				"logLevel": "warning",
			},
		},
		{
			name: "overrides beat files, --set beats both",
			values: Values{
				Files:     []string{base},
				Overrides: map[string]any{"backend": map[string]any{"replicaCount": 2}},
				Set:       []string{"backend.replicaCount=3,backend.podLabels.tier=api", "logLevel=debug"},
			},
			want: map[string]any{
				"backend": map[string]any{"replicaCount": int64(3), "image": map[string]any{"tag": "v1", "repository": "todo"},
					"podLabels": map[string]any{"tier": "api"}},
				"logLevel": "debug",
			},
		},
		{name: "missing file", values: Values{Files: []string{filepath.Join(dir, "nope.yaml")}}, wantErr: "nope.yaml"},
		{name: "bad yaml", values: Values{Files: []string{bad}}, wantErr: "parse values file " + bad},
		{name: "bad --set", values: Values{Set: []string{"a.b"}}, wantErr: `parse --set "a.b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.values.merge()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("merge =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestMergeMapsDoesNotModifyInputs(t *testing.T) {
	t.Parallel()
	a := map[string]any{"x": map[string]any{"y": 1}}
	b := map[string]any{"x": map[string]any{"z": 2}}
	_ = mergeMaps(a, b)
	if !reflect.DeepEqual(a, map[string]any{"x": map[string]any{"y": 1}}) {
		t.Errorf("mergeMaps changed its input: %v", a)
	}
}

func TestSetDoesNotModifyOverrides(t *testing.T) {
	t.Parallel()
	overrides := map[string]any{"backend": map[string]any{"replicaCount": 2}}
	if _, err := (Values{Overrides: overrides, Set: []string{"backend.replicaCount=5"}}).merge(); err != nil {
		t.Fatal(err)
	}
	if got := overrides["backend"].(map[string]any)["replicaCount"]; got != 2 {
		t.Errorf("--set wrote into the caller's overrides: replicaCount = %v", got)
	}
}

func TestDroppedKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		old, new map[string]any
		want     []string
	}{
		{"nothing set before", nil, map[string]any{"a": 1}, nil},
		{"kept", map[string]any{"a": 1}, map[string]any{"a": 1}, nil},
		{"changed is not dropped", map[string]any{"a": 1}, map[string]any{"a": 2}, nil},
		{"dropped leaf", map[string]any{"backend": map[string]any{"replicas": 3, "image": "x"}},
			map[string]any{"backend": map[string]any{"image": "x"}}, []string{"backend.replicas"}},
		{"dropped subtree lists its leaves", map[string]any{"backend": map[string]any{"replicas": 3, "image": "x"}, "other": 1},
			map[string]any{"other": 1}, []string{"backend.image", "backend.replicas"}},
		{"map replaced by a value is still set", map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": "x"}, nil},
		{"a list is one value", map[string]any{"l": []any{1, 2}}, map[string]any{}, []string{"l"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := droppedKeys(tt.old, tt.new); !slices.Equal(got, tt.want) {
				t.Errorf("droppedKeys = %q, want %q", got, tt.want)
			}
		})
	}
}

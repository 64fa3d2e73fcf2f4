package charts_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/opsagent/opsagent/charts"
)

// documentedValues walks values.yaml and returns the path of every value
// documented with a "# --" comment. A key without one must be a group whose
// children are all documented; anything else is an undocumented value.
func documentedValues(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(charts.TodoChatbotName, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var paths []string
	var walk func(prefix string, m *yaml.Node)
	walk = func(prefix string, m *yaml.Node) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			key, val := m.Content[i], m.Content[i+1]
			path := prefix + key.Value
			switch {
			case strings.Contains(key.HeadComment, "# --"):
				paths = append(paths, path)
			case val.Kind == yaml.MappingNode && len(val.Content) > 0:
				walk(path+".", val)
			default:
				t.Errorf("values.yaml: %s has no \"# --\" comment", path)
			}
		}
	}
	walk("", doc.Content[0])
	return paths
}

func TestEveryValueIsDocumented(t *testing.T) {
	t.Parallel()
	paths := documentedValues(t)
	if len(paths) < 100 {
		t.Fatalf("found only %d documented values; is the walk broken?", len(paths))
	}
	readme, err := os.ReadFile(filepath.Join(charts.TodoChatbotName, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Rows of the values table: | `key` | type | `default` | description |
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\| [^|]+ \\| `[^`]*` \\| .+ \\|$")
	var inReadme []string
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		inReadme = append(inReadme, m[1])
	}
	for _, p := range paths {
		if !slices.Contains(inReadme, p) {
			t.Errorf("README.md values table lacks %s", p)
		}
	}
	for _, p := range inReadme {
		if !slices.Contains(paths, p) {
			t.Errorf("README.md documents %s, which values.yaml does not have", p)
		}
	}
}

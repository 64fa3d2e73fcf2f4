package configtools

import (
	"maps"
	"slices"
	"testing"

	"github.com/sashabaranov/go-openai/jsonschema"
)

// itemProperties returns the property names of an array argument's items.
func itemProperties(t *testing.T, s *jsonschema.Definition, arg string) []string {
	t.Helper()
	items := s.Properties[arg].Items
	if items == nil {
		t.Fatalf("argument %s has no items", arg)
	}
	if items.Ref != "" {
		def, ok := s.Defs[items.Ref[len("#/$defs/"):]]
		if !ok {
			t.Fatalf("unresolved %s", items.Ref)
		}
		items = &def
	}
	return slices.Sorted(maps.Keys(items.Properties))
}

// The model sees no way to pass a Secret value, and no "from".
func TestModelSchemas(t *testing.T) {
	for _, tc := range []struct {
		name, arg string
		schema    *jsonschema.Definition
		want      []string
	}{
		{"model secret", "keys", CreateSecret(nil).Schema(), []string{"generate_length", "key"}},
		{"CLI secret", "keys", CreateSecret(nil, WithValues(map[string][]byte{})).Schema(), []string{"from", "generate_length", "key"}},
		{"model configmap", "data", CreateConfigMap(nil).Schema(), []string{"key", "value"}},
		{"CLI configmap", "data", CreateConfigMap(nil, WithValues(map[string][]byte{})).Schema(), []string{"from", "key", "value"}},
	} {
		if got := itemProperties(t, tc.schema, tc.arg); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %s items have %v, want %v", tc.name, tc.arg, got, tc.want)
		}
	}
}

func TestRandomValue(t *testing.T) {
	for _, n := range []int{minGenerateLength, 33, maxGenerateLength} {
		a, err := randomValue(n)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := randomValue(n)
		if len(a) != n || !urlSafe.Match(a) || string(a) == string(b) {
			t.Errorf("randomValue(%d) = %q, %q: want two different URL-safe values of that length", n, a, b)
		}
	}
}

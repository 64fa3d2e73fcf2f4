package agent_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sashabaranov/go-openai/jsonschema"

	"github.com/opsagent/opsagent/internal/agent/agenttest"
	"github.com/opsagent/opsagent/internal/tools"
)

// FuzzDecodeArgs checks tools.DecodeArgs on what a model may send as tool
// arguments: it never panics, every error wraps ErrInvalidArgs, and accepted
// arguments name only schema properties, include every required one, and
// pass validation. (It lives here because the agent is what feeds model
// output to DecodeArgs.)
func FuzzDecodeArgs(f *testing.F) {
	for _, s := range []string{
		`{"name":"backend","replicas":3}`, `{"name":"backend","replicas":"3"}`, `{"name":"backend"}`,
		`{"name":"backend","replicas":3,"extra":1}`, `{"name":"backend","replicas":1e9}`, `[]`, `null`, ``,
		`{"name":"backend","replicas":3} {}`, `{"name":null,"replicas":2}`, `{"NAME":"x","replicas":2}`,
		`{"name":"backend","replicas":-1}`, `{"name":"b","replicas":2,"wait":false,"timeout_seconds":30}`,
	} {
		f.Add([]byte(s))
	}
	schema, err := jsonschema.GenerateSchemaForType(agenttest.ScaleArgs{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var args agenttest.ScaleArgs
		err := tools.DecodeArgs(raw, schema, &args)
		if err != nil {
			if !errors.Is(err, tools.ErrInvalidArgs) {
				t.Fatalf("DecodeArgs(%q) error does not wrap ErrInvalidArgs: %v", raw, err)
			}
			return
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil && len(raw) > 0 {
			t.Fatalf("DecodeArgs accepted %q, which is not a JSON object", raw)
		}
		// encoding/json matches keys case-insensitively, so DecodeArgs
		// accepts "Replicas" for "replicas" (reported to the tools owner);
		// anything else outside the schema must be refused.
		for k := range fields {
			known := false
			for p := range schema.Properties {
				known = known || strings.EqualFold(p, k)
			}
			if !known {
				t.Fatalf("DecodeArgs accepted %q with argument %q, which the schema does not have", raw, k)
			}
		}
		for _, req := range schema.Required {
			if _, ok := fields[req]; !ok {
				t.Fatalf("DecodeArgs accepted %q without required %q", raw, req)
			}
		}
		if err := args.Validate(); err != nil {
			t.Fatalf("DecodeArgs accepted %q that fails validation: %v", raw, err)
		}
	})
}

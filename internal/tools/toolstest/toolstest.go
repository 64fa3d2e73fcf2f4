// Package toolstest holds what every tool package's tests do with a gate:
// call a tool with arguments built from a Go value, require success, and
// read the result as the model or -o json sees it (through JSON). It is
// imported by tests only.
package toolstest

import (
	"encoding/json"
	"testing"

	"github.com/opsagent/opsagent/internal/tools"
)

// Call runs tool through g with args marshalled from v.
func Call(t testing.TB, g *tools.Gate, tool string, v any) *tools.Record {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %s arguments: %v", tool, err)
	}
	return g.Call(t.Context(), tool, raw)
}

// MustCall is Call, failing the test if the call failed.
func MustCall(t testing.TB, g *tools.Gate, tool string, v any) *tools.Record {
	t.Helper()
	rec := Call(t, g, tool, v)
	if rec.Err() != nil {
		t.Fatalf("%s %v: %v", tool, v, rec.Err())
	}
	return rec
}

// ResultAs converts a record's result to T through JSON, as a model or the
// -o json output would see it.
func ResultAs[T any](t testing.TB, rec *tools.Record) T {
	t.Helper()
	var out T
	b, err := json.Marshal(rec.Result)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("result %s: %v", b, err)
	}
	return out
}

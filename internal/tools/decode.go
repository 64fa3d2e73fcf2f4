package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sashabaranov/go-openai/jsonschema"
)

// maxArgsBytes bounds what a model may send as arguments; real calls are tiny.
const maxArgsBytes = 16 << 10

// DecodeArgs decodes raw JSON arguments into v strictly: the input must be one
// JSON object, every required property must be present, unknown properties
// and wrong types are errors, and v's Validate method (if any) must pass.
// Every error wraps ErrInvalidArgs and says which argument is wrong.
func DecodeArgs(raw json.RawMessage, schema *jsonschema.Definition, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	if len(raw) > maxArgsBytes {
		return fmt.Errorf("%w: arguments are %d bytes, more than the %d allowed", ErrInvalidArgs, len(raw), maxArgsBytes)
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(raw, &present); err != nil {
		return fmt.Errorf("%w: arguments must be a JSON object: %v", ErrInvalidArgs, err)
	}
	if schema != nil {
		// encoding/json matches field names case-insensitively; a model
		// sending both "replicas" and "Replicas" must not have the second
		// silently win over what the preview and the audit log show.
		for name := range present {
			if _, ok := schema.Properties[name]; !ok {
				return fmt.Errorf("%w: %s", ErrInvalidArgs, describeDecodeError(fmt.Errorf("json: unknown field %q", name), schema))
			}
		}
		var missing []string
		for _, name := range schema.Required {
			if val, ok := present[name]; !ok || string(val) == "null" {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			return fmt.Errorf("%w: missing required argument(s) %s", ErrInvalidArgs, strings.Join(missing, ", "))
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidArgs, describeDecodeError(err, schema))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: unexpected data after the arguments object", ErrInvalidArgs)
	}
	if val, ok := v.(Validator); ok {
		if err := val.Validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidArgs, err)
		}
	}
	return nil
}

func describeDecodeError(err error, schema *jsonschema.Definition) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("argument %q must be of type %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok && schema != nil {
		known := make([]string, 0, len(schema.Properties))
		for k := range schema.Properties {
			known = append(known, k)
		}
		slices.Sort(known)
		return fmt.Sprintf("unknown argument %s (known: %s)", name, strings.Join(known, ", "))
	}
	return msg
}

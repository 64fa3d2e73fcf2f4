package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// RedactJSON redacts a JSON document structurally: the value of any field
// whose key looks secret (SecretKey), and the "value" of an entry whose
// "name" or "key" looks secret ({"name":"DB_PASSWORD","value":"x"}, a
// ConfigMap key {"key":"password","value":"x"}), are replaced by Redacted;
// every other string (and key) goes through Redact. Objects and arrays under
// a secret-looking key are walked, not dropped, so a description's "secret"
// section keeps its key names. Field order and numbers are kept. Input that
// is not JSON is redacted as text.
func (r *Redactor) RedactJSON(data []byte) []byte {
	v, err := decodeOrdered(data)
	if err != nil {
		return []byte(r.Redact(string(data)))
	}
	v = r.walk(v)
	var b bytes.Buffer
	encodeOrdered(&b, v)
	return b.Bytes()
}

// JSON is RedactJSON with the patterns and key rules only (no cluster
// values).
func JSON(data []byte) []byte { return (*Redactor)(nil).RedactJSON(data) }

// MaskArgs masks a tool call's arguments for showing them to people (the
// approval prompt, the audit log, -o json): secret-looking keys' values,
// "--set"-style strings ("db.password=x") and tokens. It never uses Secret
// values, and it is for display only: the tool itself receives the
// arguments unchanged. Arguments that are not JSON come back as a JSON
// string of their masked text, so the result is always valid JSON.
func MaskArgs(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return raw
	}
	if !json.Valid(raw) {
		b, _ := json.Marshal(Text(string(raw)))
		return b
	}
	return JSON(raw)
}

// object is a JSON object with its field order.
type object struct {
	keys []string
	vals []any
}

func (r *Redactor) walk(v any) any {
	switch v := v.(type) {
	case string:
		return r.Redact(v)
	case []any:
		for i := range v {
			v[i] = r.walk(v[i])
		}
	case *object:
		pairSecret := false
		for i, k := range v.keys {
			if lk := strings.ToLower(k); lk == "name" || lk == "key" {
				if s, ok := v.vals[i].(string); ok && SecretKey(s) {
					pairSecret = true
				}
			}
		}
		for i, k := range v.keys {
			if SecretKey(k) || (pairSecret && strings.EqualFold(k, "value")) {
				if scalar(v.vals[i]) {
					v.vals[i] = Redacted
					continue
				}
			}
			v.keys[i] = r.Redact(k)
			v.vals[i] = r.walk(v.vals[i])
		}
	}
	return v
}

// scalar reports whether v is a value that can hold a credential: a
// non-empty string or a number (not null, a boolean, or a container).
func scalar(v any) bool {
	switch v := v.(type) {
	case string:
		return v != "" && !placeholder(v)
	case json.Number:
		return true
	}
	return false
}

// decodeOrdered decodes one JSON value, keeping object field order and
// numbers as written.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &object{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			o.keys, o.vals = append(o.keys, k), append(o.vals, v)
		}
		_, err = dec.Token() // '}'
		return o, err
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err = dec.Token() // ']'
		return a, err
	}
	return tok, nil
}

// encodeOrdered writes v compactly, without HTML escaping.
func encodeOrdered(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case *object:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeString(b, k)
			b.WriteByte(':')
			encodeOrdered(b, v.vals[i])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeOrdered(b, e)
		}
		b.WriteByte(']')
	case string:
		encodeString(b, v)
	case json.Number:
		b.WriteString(v.String())
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	default:
		b.WriteString("null")
	}
}

func encodeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

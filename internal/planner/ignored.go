package planner

import (
	"encoding/json"
	"strings"
	"unicode"
)

// slotWords introduce a slot (namespace, container, scope); the slot's
// value, not the word, is what a plan must use.
var slotWords = wordSet("-n", "--namespace", "namespace", "ns", "in", "-c", "--container", "container",
	"-a", "--all-namespaces", "all-namespaces", "everywhere", "cluster-wide", "clusterwide", "cluster", "namespaces")

// ignored returns, as written, the tokens of the request that the plan does
// not account for: not stopwords, not the intent's keywords, not kind words
// or slot words, and not found among the calls' argument values.
func (r *request) ignored(in intent, calls []Call) []string {
	vals := argFragments(calls)
	vocab := set(in.words...)
	var out []string
	for i, t := range r.toks {
		// A read uses any read word; a change only its own.
		readWord := !in.change && keywords()[t] && !changeVerbs()[t]
		if stopwords()[t] || vocab[t] || slotWords()[t] || readWord {
			continue
		}
		if _, ok := kindWords()[t]; ok {
			continue
		}
		if kind, name, ok := strings.Cut(t, "/"); ok && name == r.explicitName {
			if _, known := kindWords()[kind]; known {
				continue
			}
		}
		if covered(t, vals) {
			continue
		}
		out = append(out, r.raws[i])
	}
	return out
}

// covered reports whether every alphanumeric fragment of tok is among vals.
func covered(tok string, vals map[string]bool) bool {
	frags := fragments(tok)
	if len(frags) == 0 {
		return true // punctuation only
	}
	for _, f := range frags {
		if !vals[f] {
			return false
		}
	}
	return true
}

// argFragments collects the lowercased alphanumeric fragments of every
// argument value of calls.
func argFragments(calls []Call) map[string]bool {
	vals := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			for _, f := range fragments(strings.ToLower(v)) {
				vals[f] = true
			}
		case json.Number:
			for _, f := range fragments(v.String()) {
				vals[f] = true
			}
		case bool:
			// all_namespaces, previous, warnings_only: said by keywords.
		}
	}
	for _, c := range calls {
		dec := json.NewDecoder(strings.NewReader(string(c.Args)))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			walk(v)
		}
	}
	return vals
}

func fragments(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) })
}

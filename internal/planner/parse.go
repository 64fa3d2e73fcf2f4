package planner

import (
	"fmt"
	"slices"
	"strings"
)

// request is a tokenized request with its slots pulled out.
type request struct {
	words []string // tokens not consumed by a slot
	has   map[string]bool

	namespace     string
	allNamespaces bool
	container     string
	kind          *kindInfo
	// explicitName is set by the kubectl form "deployment/backend".
	explicitName string
	numbers      []number
	// verb is the request's first token ("deploy" is also kubectl's short
	// name for deployments, so the kind pass would otherwise consume it).
	verb string
}

// number is an integer in the request with the words around it.
type number struct {
	value       int
	before      string // the token before it ("to", "last", "revision")
	after       string // the token after it ("replicas", "lines")
	parseFailed error
}

// parse tokenizes raw and extracts the namespace, scope, container, kind and
// numbers. It never fails; what is left is judged by each intent.
func parse(raw string) *request {
	toks := tokenize(raw)
	r := &request{has: map[string]bool{}}
	if len(toks) > 0 {
		r.verb = toks[0]
	}
	used := make([]bool, len(toks))
	next := func(i int) (string, bool) {
		if i+1 < len(toks) && !used[i+1] && isNameLike(toks[i+1]) {
			return toks[i+1], true
		}
		return "", false
	}
	// Pass 1: explicit slots.
	for i, t := range toks {
		if used[i] {
			continue
		}
		switch t {
		case "-n", "--namespace", "namespace", "ns":
			if v, ok := next(i); ok && r.namespace == "" {
				r.namespace, used[i], used[i+1] = v, true, true
			} else if t == "namespace" && i > 0 && !used[i-1] && isNameLike(toks[i-1]) && r.namespace == "" {
				// "in the todo namespace"
				r.namespace, used[i], used[i-1] = toks[i-1], true, true
			}
		case "-a", "--all-namespaces", "all-namespaces", "everywhere", "cluster-wide", "clusterwide", "cluster", "namespaces":
			if t == "namespaces" && (i == 0 || !slices.Contains([]string{"all", "every", "across"}, toks[i-1])) {
				continue
			}
			r.allNamespaces, used[i] = true, true
		case "-c", "--container", "container":
			if v, ok := next(i); ok && r.container == "" {
				r.container, used[i], used[i+1] = v, true, true
			}
		}
	}
	// Pass 2: "in X" names a namespace when X is not a known word.
	for i, t := range toks {
		if used[i] || t != "in" || r.namespace != "" {
			continue
		}
		if v, ok := next(i); ok {
			r.namespace, used[i], used[i+1] = v, true, true
		}
	}
	// Pass 3: kinds, kind/name, numbers.
	for i, t := range toks {
		if used[i] {
			continue
		}
		if k, ok := kindWords[t]; ok {
			if r.kind == nil {
				r.kind = &k
			}
			used[i] = true
			continue
		}
		if kind, name, ok := strings.Cut(t, "/"); ok {
			if k, known := kindWords[kind]; known && dnsName.MatchString(name) && r.explicitName == "" {
				r.kind, r.explicitName, used[i] = &k, name, true
				continue
			}
		}
		if v, isNum, err := parseInt(t); isNum {
			n := number{value: v, parseFailed: err}
			if i > 0 {
				n.before = toks[i-1]
			}
			if i+1 < len(toks) {
				n.after = toks[i+1]
			}
			r.numbers = append(r.numbers, n)
			used[i] = true
		}
	}
	for i, t := range toks {
		r.has[t] = true
		if !used[i] {
			r.words = append(r.words, t)
		}
	}
	return r
}

// isNameLike reports whether tok can be an object or namespace name rather
// than a word with meaning to the planner.
func isNameLike(tok string) bool {
	if fillers[tok] || !dnsName.MatchString(tok) {
		return false
	}
	if _, ok := kindWords[tok]; ok {
		return false
	}
	if _, isNum, _ := parseInt(tok); isNum {
		return false
	}
	return true
}

// any reports whether the request contains one of words.
func (r *request) any(words ...string) bool {
	for _, w := range words {
		if r.has[w] {
			return true
		}
	}
	return false
}

// phrase reports whether the tokens a, b appear next to each other.
func (r *request) phrase(a, b string) bool {
	for i := 0; i+1 < len(r.words); i++ {
		if r.words[i] == a && r.words[i+1] == b {
			return true
		}
	}
	return false
}

// names returns the tokens that can only be object names.
func (r *request) names() []string {
	var out []string
	if r.explicitName != "" {
		out = append(out, r.explicitName)
	}
	for _, w := range r.words {
		if isNameLike(w) && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// name returns the single object name in the request. what describes the
// object for the error message ("workload", "pod").
func (r *request) name(what string) (string, error) {
	names := r.names()
	switch len(names) {
	case 0:
		return "", fmt.Errorf("which %s? name it, e.g. %q", what, exampleFor(what))
	case 1:
		return names[0], nil
	}
	return "", fmt.Errorf("found several possible %s names (%s); name exactly one", what, strings.Join(names, ", "))
}

// optionalName is name for intents where the object is optional.
func (r *request) optionalName(what string) (string, error) {
	if len(r.names()) == 0 {
		return "", nil
	}
	return r.name(what)
}

func exampleFor(what string) string {
	switch what {
	case "pod":
		return "delete pod todo-chatbot-backend-7d9c-abcde"
	case "release":
		return "helm status todo"
	}
	return "restart backend"
}

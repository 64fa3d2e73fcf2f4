package planner

import (
	"fmt"
	"slices"
	"strings"
)

// request is a tokenized request with its slots pulled out.
type request struct {
	toks []string // every token, lowercased
	raws []string // every token as written
	used []bool   // tokens consumed by a slot
	// words are the tokens not consumed by a slot.
	words []string
	has   map[string]bool

	namespace     string
	allNamespaces bool
	container     string
	kind          *kindInfo
	// explicitName is set by the kubectl form "deployment/backend".
	explicitName string
	numbers      []number
	// quantities are Kubernetes quantities as written: "512Mi", "500m", "0.5".
	quantities []quantity
	// images are tokens that can only be image references ("nginx:1.27").
	images []string
	// pairs are KEY=VALUE tokens, as written.
	pairs []pair
	// verb is the request's first token after greetings and a polite
	// "could you" ("deploy" is also kubectl's short name for deployments,
	// so the kind pass would otherwise consume it).
	verb string
	// asks is why the request asks rather than tells ("a question"), or "".
	// Such a request is only ever planned onto read tools.
	asks string
}

// number is an integer in the request with the words around it.
type number struct {
	value       int
	index       int    // in request.toks
	before      string // the token before it ("to", "last", "revision")
	after       string // the token after it ("replicas", "lines")
	percent     bool   // "70%", "70 percent"
	parseFailed error
}

// quantity is a token that reads as a Kubernetes quantity.
type quantity struct {
	raw           string
	index         int
	before, after string
}

// pair is a KEY=VALUE token.
type pair struct{ key, value string }

var (
	quantityLike = pattern(`^[0-9]+(\.[0-9]+)?[a-zA-Z]+$|^[0-9]*\.[0-9]+$`)
	// imageLike is loose: set_image checks the reference.
	imageLike = pattern(`^[a-zA-Z0-9][a-zA-Z0-9._/:-]*(@[a-zA-Z0-9]+:[a-fA-F0-9]+)?$`)
)

// parse tokenizes raw and extracts the namespace, scope, container, kind,
// numbers, quantities, images and pairs, and notes whether the request is
// a question. It never fails; what is left is judged by each intent.
func parse(raw string) *request {
	toks, raws := tokenize(raw)
	r := &request{toks: toks, raws: raws, used: make([]bool, len(toks)), has: map[string]bool{}}
	start := leadIn(toks)
	if start < len(toks) {
		r.verb = toks[start]
	}
	r.asks = asks(toks, start, raw)
	used := r.used
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
	// Pass 3: kinds, kind/name, numbers, quantities, pairs, images.
	for i, t := range toks {
		if used[i] {
			continue
		}
		if k, ok := kindWords()[t]; ok {
			if r.kind == nil {
				r.kind = &k
			}
			used[i] = true
			continue
		}
		if kind, name, ok := strings.Cut(t, "/"); ok {
			if k, known := kindWords()[kind]; known && dnsName().MatchString(name) && r.explicitName == "" {
				r.kind, r.explicitName, used[i] = &k, name, true
				continue
			}
		}
		if n, ok := r.number(i); ok {
			r.numbers = append(r.numbers, n)
			used[i] = true
			continue
		}
		switch {
		case strings.Contains(t, "="):
			k, v, _ := strings.Cut(raws[i], "=")
			r.pairs = append(r.pairs, pair{key: k, value: v})
		case quantityLike().MatchString(t):
			r.quantities = append(r.quantities, quantity{raw: raws[i], index: i, before: r.tok(i - 1), after: r.tok(i + 1)})
		case strings.ContainsAny(t, ":@/") && imageLike().MatchString(raws[i]):
			r.images = append(r.images, raws[i])
		default:
			continue
		}
		used[i] = true
	}
	for i, t := range toks {
		r.has[t] = true
		if !used[i] {
			r.words = append(r.words, t)
		}
	}
	return r
}

// number reads toks[i] as an integer, "70%" included.
func (r *request) number(i int) (number, bool) {
	t := r.toks[i]
	pct := strings.HasSuffix(t, "%")
	v, isNum, err := parseInt(strings.TrimSuffix(t, "%"))
	if !isNum {
		return number{}, false
	}
	n := number{value: v, index: i, parseFailed: err, before: r.tok(i - 1), after: r.tok(i + 1)}
	n.percent = pct || n.after == "percent" || n.after == "pct"
	return n, true
}

// tok returns the i-th token, "" out of range.
func (r *request) tok(i int) string {
	if i < 0 || i >= len(r.toks) {
		return ""
	}
	return r.toks[i]
}

// take marks toks[i] as consumed by an intent: it is no longer a name.
func (r *request) take(i int) {
	if r.used[i] {
		return
	}
	r.used[i] = true
	r.words = r.words[:0]
	for j, t := range r.toks {
		if !r.used[j] {
			r.words = append(r.words, t)
		}
	}
}

// isNameLike reports whether tok can be an object or namespace name rather
// than a word with meaning to the planner.
func isNameLike(tok string) bool {
	if fillers()[tok] || !dnsName().MatchString(tok) {
		return false
	}
	if _, ok := kindWords()[tok]; ok {
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

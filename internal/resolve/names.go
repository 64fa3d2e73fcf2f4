package resolve

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opsagent/opsagent/internal/tools"
)

// Candidate is an object a name might refer to.
type Candidate struct {
	// Kind is how the caller names the kind in messages and results
	// ("deployment" for the tools, "Deployment" for diagnose).
	Kind   string
	Name   string
	Labels map[string]string
	// Rank orders loose matches: when no name is exact, candidates of the
	// lowest rank that matches are considered first (diagnose prefers a
	// workload to its pods). ExactOnly candidates are found by their exact
	// name only (a CronJob's Jobs).
	Rank int
}

// ExactOnly is the Rank of candidates that loose matching skips.
const ExactOnly = -1

func (c Candidate) String() string { return strings.ToLower(c.Kind) + "/" + c.Name }

// nameLabels are the labels whose values people use as short names. Helm
// charts usually name objects "<release>-<component>" and label them with
// the component, so "backend" finds "todo-chatbot-backend".
var nameLabels = []string{"app.kubernetes.io/component", "app.kubernetes.io/name", "app"}

// MaxListed bounds how many names an error or a result lists.
const MaxListed = 15

// NormalizeName turns a spoken name into the shape of a Kubernetes name:
// lower case, with spaces and underscores as dashes ("Todo Backend" →
// "todo-backend").
func NormalizeName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '_' || r == '\t' }), "-")
}

// SplitKind splits "deploy/backend" into its kind and name. Without a
// slash the kind is empty.
func SplitKind(s string) (kind, name string) {
	if k, n, ok := strings.Cut(strings.TrimSpace(s), "/"); ok {
		return k, n
	}
	return "", strings.TrimSpace(s)
}

// Matches reports whether the normalized query names c other than by its
// exact name: as whole dash-separated words of the name ("backend" in
// "todo-chatbot-backend", "chatbot" in "todo-chatbot-backend"), or as the
// value of a name label. A bare substring ("chat") never matches.
func Matches(query string, c Candidate) bool {
	if strings.HasPrefix(c.Name, query+"-") || strings.HasSuffix(c.Name, "-"+query) || strings.Contains(c.Name, "-"+query+"-") {
		return true
	}
	return slices.ContainsFunc(nameLabels, func(l string) bool { return c.Labels[l] == query })
}

// Where shapes Pick's messages: Noun is what is looked for ("workload",
// "pod or workload"), Listed what a not-found error lists ("workloads"),
// In where ("namespace todo").
type Where struct {
	Noun, Listed, In string
	// Partial, when set, says the candidates are not all there are ("only
	// the first 2000 deployments were read"). Only an exact name is
	// trusted then: an object that was not read could match as well.
	Partial string
}

// Pick returns the one candidate query refers to. An exact name wins over
// everything; otherwise loose matches (Matches) are taken rank by rank, and
// exactly one is required. It never guesses: several matches are
// tools.ErrAmbiguous and none tools.ErrNotFound, and both list names so the
// caller can ask again precisely.
func Pick(query string, cands []Candidate, w Where) (Candidate, error) {
	q := NormalizeName(query)
	exact := filter(cands, func(c Candidate) bool { return c.Name == q })
	switch {
	case len(exact) == 1:
		return exact[0], nil
	case len(exact) > 1:
		return Candidate{}, fmt.Errorf("%w: %q names %s in %s; give the kind, e.g. %s",
			tools.ErrAmbiguous, query, List(exact), w.In, exact[0])
	}
	if w.Partial != "" {
		return Candidate{}, pickPartial(query, q, cands, w)
	}
	ranks := slices.Compact(slices.Sorted(func(yield func(int) bool) {
		for _, c := range cands {
			if c.Rank != ExactOnly && !yield(c.Rank) {
				return
			}
		}
	}))
	for _, r := range ranks {
		found := filter(cands, func(c Candidate) bool { return c.Rank == r && Matches(q, c) })
		switch {
		case len(found) == 1:
			return found[0], nil
		case len(found) > 1:
			return Candidate{}, fmt.Errorf("%w: %q matches %d %s in %s: %s; use the exact name (and kind)",
				tools.ErrAmbiguous, query, len(found), w.Listed, w.In, List(found))
		}
	}
	listed := cands
	if len(ranks) > 0 {
		listed = filter(cands, func(c Candidate) bool { return c.Rank == ranks[0] })
	}
	if len(listed) == 0 {
		return Candidate{}, fmt.Errorf("%w: no %s named %q in %s, and there are no %s there at all; check the namespace (list_resources kind=namespaces)",
			tools.ErrNotFound, w.Noun, query, w.In, w.Listed)
	}
	return Candidate{}, fmt.Errorf("%w: no %s named %q in %s; the %s there are: %s",
		tools.ErrNotFound, w.Noun, query, w.In, w.Listed, List(listed))
}

// pickPartial is Pick's answer, from a partial list, to a name that is not
// exact: never a guess.
func pickPartial(query, q string, cands []Candidate, w Where) error {
	found := filter(cands, func(c Candidate) bool { return c.Rank != ExactOnly && Matches(q, c) })
	if len(found) > 0 {
		return fmt.Errorf("%w: %q matches %s in %s, but %s, so others may match too; use the exact name (and kind)",
			tools.ErrAmbiguous, query, List(found), w.In, w.Partial)
	}
	return fmt.Errorf("%w: no %s named %q in %s, but %s; use the exact name (and kind)",
		tools.ErrNotFound, w.Noun, query, w.In, w.Partial)
}

func filter(cands []Candidate, keep func(Candidate) bool) []Candidate {
	var out []Candidate
	for _, c := range cands {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// List renders candidates as "kind/name, ..." with at most 15 names.
func List(cands []Candidate) string {
	names := make([]string, 0, min(len(cands), MaxListed+1))
	for i, c := range cands {
		if i == MaxListed {
			names = append(names, fmt.Sprintf("… and %d more", len(cands)-MaxListed))
			break
		}
		names = append(names, c.String())
	}
	return strings.Join(names, ", ")
}

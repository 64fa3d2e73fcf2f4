package planner

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/opsagent/opsagent/internal/resolve"
)

// kindInfo describes a resource kind as people name it.
type kindInfo struct {
	// Name is the lowercase singular name passed to tools ("deployment").
	Name string
	// Workload kinds can be scaled, restarted and rolled out.
	Workload bool
}

// plannerKinds are the kinds requests name: those the tools act on or list.
var plannerKinds = []string{
	"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Service", "ConfigMap", "Secret",
	"Node", "Namespace", "Job", "CronJob", "Ingress", "PersistentVolumeClaim", "PersistentVolume",
	"ServiceAccount", "Endpoints", "HorizontalPodAutoscaler",
}

// notKindWords are spellings of the shared kind table that mean something
// else in a request: "no" is a negation, "namespace" and "ns" introduce
// the namespace ("in namespace todo").
var notKindWords = wordSet("no", "namespace", "ns")

// kindWords maps every spelling people use (singular, plural, short name)
// to its kind, from the kind table the tools and diagnose share
// (internal/resolve), so a kind word means the same everywhere.
var kindWords = sync.OnceValue(func() map[string]kindInfo {
	m := map[string]kindInfo{}
	for _, k := range resolve.Kinds() {
		if !slices.Contains(plannerKinds, k.Kind) {
			continue
		}
		for _, w := range append([]string{k.Name(), k.Resource}, k.Aliases...) {
			if !notKindWords()[w] {
				m[w] = kindInfo{Name: k.Name(), Workload: k.Workload}
			}
		}
	}
	return m
})

// numberWords are the number words the planner understands.
var numberWords = sync.OnceValue(func() map[string]int {
	return map[string]int{
		"zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
		"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
		"twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
		"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
		"forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
		"ninety": 90, "hundred": 100,
	}
})

// stopwords never carry an instruction: articles, pronouns, politeness,
// prepositions, auxiliaries and the generic verbs ("set", "make", "change")
// whose meaning comes from the words around them. A plan may leave them out
// and still be exact (see Plan.Ignored).
var stopwords = wordSet(
	"a", "an", "the", "my", "our", "your", "me", "us", "i", "we", "you", "u", "it", "its", "this", "that",
	"these", "those", "please", "pls", "plz", "kindly", "can", "could", "would", "will", "should",
	"want", "wanna", "need", "needs", "like", "let", "lets", "go", "ahead", "now", "just", "quickly", "right",
	"away", "again", "hey", "hi", "ok", "okay", "opsagent", "thanks", "thank", "to", "of", "for",
	"from", "on", "at", "by", "with", "and", "then", "is", "are", "was", "were", "be", "been",
	"do", "does", "did", "done", "has", "have", "had", "some", "any", "so", "up", "down", "what",
	"whats", "which", "how", "who", "there", "here", "currently", "current", "app", "application",
	"workload", "workloads", "named", "called", "resource", "object", "objects",
	"about", "info", "information", "everything", "all", "every", "in", "into", "inside", "k8s",
	"kubernetes", "cluster", "going", "happening", "anymore", "still", "being",
	"new", "set", "make", "change", "update", "adjust", "put", "give", "run", "them", "as", "also",
	"namespace", "ns", "where", "whole", "entire", "across", "everywhere", "-a",
	"--all-namespaces", "all-namespaces", "cluster-wide", "clusterwide", "same", "value", "values",
)

// negations and conditions change what a request asks for in ways the
// planner does not model ("do not restart", "restart if it fails"); a
// request holding one is never planned as a change.
var (
	negations = wordSet("not", "no", "never", "dont", "doesnt", "didnt", "cant", "cannot", "wont",
		"shouldnt", "mustnt", "without", "avoid", "nor", "neither")
	conditions = wordSet("if", "unless", "when", "whenever", "once", "until", "after", "while", "otherwise", "or", "but")
)

// keywords are the words intents are recognised by. Like stopwords they are
// never object names; unlike them, a plan that leaves one out has not used
// the whole request.
var keywords = wordSet(
	"instance", "instances", "copies", "copy", "replica", "replicas", "count", "number", "size",
	"total", "resources", "output", "container", "containers", "lines", "line", "last", "latest",
	"recent", "tail", "previous", "prior", "crashed", "revision", "rev", "version", "release",
	"releases", "helm", "chart", "only", "list", "get", "show", "display", "print", "see", "view",
	"tell", "find", "fetch", "look", "inspect", "details", "detail", "describe", "explain", "status",
	"state", "ready", "rolled", "rollout", "out", "progress", "finished", "complete", "healthy",
	"health", "why", "warning", "warnings", "errors", "error", "failures", "event", "events", "log",
	"logs", "restart", "restarts", "restarted", "bounce", "recycle", "reboot", "rollback", "roll",
	"back", "undo", "revert", "scale", "scaled", "resize", "bump", "increase", "decrease", "reduce",
	"grow", "shrink", "delete", "remove", "kill", "evict", "uninstall", "history", "diagnose",
	"wrong", "failing", "fail", "fails", "failed", "broken", "crash", "crashing", "crashes",
	"crashloop", "crashloopbackoff", "unhealthy", "troubleshoot", "debug", "problem", "problems",
	"issue", "issues", "check", "investigate", "happened", "happen", "happens", "working", "work",
	"works", "install", "deploy", "upgrade", "times", "than", "running", "deployed",
	"before",
	// The focused change tools.
	"rolling", "image", "images", "tag", "memory", "mem", "ram", "cpu", "cpus", "core", "cores", "limit",
	"limits", "request", "requests", "expose", "port", "ports", "target", "targetport", "nodeport",
	"loadbalancer", "clusterip", "type", "autoscale", "autoscaler", "autoscaling", "between",
	"min", "minimum", "max", "maximum", "percent", "pct", "utilization", "utilisation", "volume",
	"volumes", "disk", "storage", "claim", "expand", "extend", "enlarge", "cordon", "uncordon",
	"drain", "env", "environment", "variable", "variables", "var", "vars", "envvar", "create",
	"key", "keys", "data", "more", "less", "safe",
)

// fillers are the words that are never object names.
var fillers = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, s := range []map[string]bool{stopwords(), keywords(), negations(), conditions()} {
		for w := range s {
			m[w] = true
		}
	}
	return m
})

// The planner's tables and patterns are built on first use rather than at
// package initialisation: Go initialises every linked package before main,
// so a table built there costs every command (`opsagent --help`, diagnose)
// and not only the requests the planner reads. Built eagerly they were
// about 1,200 allocations and 2–4 ms of every start.

// wordSet returns a function that builds the set of words on its first call.
func wordSet(words ...string) func() map[string]bool {
	return sync.OnceValue(func() map[string]bool { return set(words...) })
}

// pattern returns a function that compiles expr on its first call.
func pattern(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

var (
	possessive = pattern(`['’][sS]\b`)
	// Tokens keep what images (":", "@"), pairs ("=") and percentages
	// ("%") are written with; everything else separates.
	separators   = pattern(`[^A-Za-z0-9./_:=%@-]+`)
	spacePercent = pattern(`([0-9])\s+%`)
	// dnsName is what a Kubernetes object name (or a prefix of it) looks like.
	dnsName = pattern(`^[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?$`)
)

// tokenize drops punctuation and possessives, and turns number words into
// digits. It returns each token lowercased and as written (for images,
// environment variables and quantities, where case matters); the two
// slices have the same length.
func tokenize(request string) (low, raw []string) {
	s := possessive().ReplaceAllString(request, "")
	s = strings.NewReplacer("'", "", "’", "").Replace(s)
	s = spacePercent().ReplaceAllString(s, "$1%")
	s = separators().ReplaceAllString(s, " ")
	for _, f := range strings.Fields(s) {
		// Keep a leading "-" (flags such as -n, negative numbers); drop
		// sentence punctuation at the ends.
		f = strings.TrimRight(f, "./_-:=@")
		if !strings.HasPrefix(f, "-") {
			f = strings.TrimLeft(f, "./_:=%@")
		}
		if f == "" || f == "-" {
			continue
		}
		raw = append(raw, splitToken(f)...)
	}
	raw = joinNumberWords(raw)
	low = make([]string, len(raw))
	for i, t := range raw {
		low[i] = strings.ToLower(t) // tokens are ASCII: same length
	}
	return low, raw
}

// splitToken splits "twenty-five" into "twenty", "five", and "replicas=3"
// or "--namespace=todo" into key and value when the key is a word the
// planner knows; other pairs ("LOG_LEVEL=debug") stay one token.
func splitToken(f string) []string {
	lf := strings.ToLower(f)
	if a, b, ok := strings.Cut(lf, "-"); ok && a != "" {
		_, okA := numberWords()[a]
		_, okB := numberWords()[b]
		if okA && okB {
			return []string{f[:len(a)], f[len(a)+1:]}
		}
	}
	if k, v, ok := strings.Cut(f, "="); ok && k != "" && v != "" {
		lk := strings.ToLower(k)
		_, kind := kindWords()[lk]
		if splitKeys()[lk] || kind || strings.HasPrefix(k, "-") {
			if lk == "n" {
				k = "-n"
			}
			return []string{k, v}
		}
	}
	return []string{f}
}

// splitKeys are the planner's words that may be written KEY=VALUE.
var splitKeys = wordSet("n", "ns", "namespace", "replicas", "replica", "container", "revision", "rev",
	"tail", "lines", "image", "port", "min", "max", "cpu", "memory", "size")

// joinNumberWords turns number words into digits: "twenty five" → "25".
func joinNumberWords(words []string) []string {
	out := make([]string, 0, len(words))
	for i := 0; i < len(words); i++ {
		n, ok := numberWords()[strings.ToLower(words[i])]
		if !ok {
			out = append(out, words[i])
			continue
		}
		if n >= 20 && n%10 == 0 && n < 100 && i+1 < len(words) {
			if u, ok := numberWords()[strings.ToLower(words[i+1])]; ok && u > 0 && u < 10 {
				n += u
				i++
			}
		}
		out = append(out, strconv.Itoa(n))
	}
	return out
}

// parseInt parses a token that is entirely a (possibly negative) integer.
func parseInt(tok string) (int, bool, error) {
	t := strings.TrimPrefix(tok, "-")
	if t == "" || strings.TrimLeft(t, "0123456789") != "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(tok, 10, 32)
	if err != nil {
		return 0, true, err
	}
	return int(n), true, nil
}

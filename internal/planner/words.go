package planner

import (
	"regexp"
	"strconv"
	"strings"
)

// kindInfo describes a resource kind as people name it.
type kindInfo struct {
	// Name is the lowercase singular name passed to tools ("deployment").
	Name string
	// Workload kinds can be scaled, restarted and rolled out.
	Workload bool
}

// kindWords maps every spelling people use (singular, plural, short name)
// to its kind.
var kindWords = func() map[string]kindInfo {
	m := map[string]kindInfo{}
	add := func(k kindInfo, words ...string) {
		for _, w := range words {
			m[w] = k
		}
	}
	add(kindInfo{Name: "deployment", Workload: true}, "deployment", "deployments", "deploy", "deploys")
	add(kindInfo{Name: "statefulset", Workload: true}, "statefulset", "statefulsets", "sts")
	add(kindInfo{Name: "daemonset", Workload: true}, "daemonset", "daemonsets", "ds")
	add(kindInfo{Name: "replicaset"}, "replicaset", "replicasets", "rs")
	add(kindInfo{Name: "pod"}, "pod", "pods", "po")
	add(kindInfo{Name: "service"}, "service", "services", "svc", "svcs")
	add(kindInfo{Name: "configmap"}, "configmap", "configmaps", "cm")
	add(kindInfo{Name: "secret"}, "secret", "secrets")
	add(kindInfo{Name: "node"}, "node", "nodes")
	add(kindInfo{Name: "namespace"}, "namespaces")
	add(kindInfo{Name: "job"}, "job", "jobs")
	add(kindInfo{Name: "cronjob"}, "cronjob", "cronjobs", "cj")
	add(kindInfo{Name: "ingress"}, "ingress", "ingresses", "ing")
	add(kindInfo{Name: "persistentvolumeclaim"}, "persistentvolumeclaim", "persistentvolumeclaims", "pvc", "pvcs")
	add(kindInfo{Name: "persistentvolume"}, "persistentvolume", "persistentvolumes", "pv", "pvs")
	add(kindInfo{Name: "serviceaccount"}, "serviceaccount", "serviceaccounts", "sa")
	add(kindInfo{Name: "endpoints"}, "endpoints", "ep")
	add(kindInfo{Name: "horizontalpodautoscaler"}, "horizontalpodautoscaler", "horizontalpodautoscalers", "hpa", "hpas")
	return m
}()

// numberWords are the number words the planner understands.
var numberWords = map[string]int{
	"zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
	"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
	"twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
	"forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
	"ninety": 90, "hundred": 100,
}

// fillers carry no meaning for any intent.
var fillers = set(
	"a", "an", "the", "my", "our", "your", "me", "us", "i", "we", "you", "it", "its", "this", "that",
	"these", "those", "please", "pls", "plz", "kindly", "can", "could", "would", "will", "should",
	"want", "wanna", "need", "like", "let", "lets", "go", "ahead", "now", "just", "quickly", "right",
	"away", "again", "hey", "hi", "ok", "okay", "opsagent", "thanks", "thank", "to", "of", "for",
	"from", "on", "at", "by", "with", "and", "then", "is", "are", "was", "were", "be", "been",
	"do", "does", "did", "done", "has", "have", "had", "some", "any", "so", "up", "down", "what",
	"whats", "which", "how", "who", "there", "here", "currently", "current", "app", "application",
	"workload", "workloads", "named", "called", "resource", "resources", "object", "objects",
	"about", "info", "information", "everything", "all", "every", "in", "into", "inside", "k8s",
	"kubernetes", "cluster", "going", "happening", "not", "no", "anymore", "still", "being",
	"instance", "instances", "copies", "copy", "replica", "replicas", "count", "number", "size",
	"new", "total", "set", "make", "change", "update", "adjust", "put", "give", "run", "them",
	"output", "container", "containers", "lines", "line", "last", "latest", "recent", "tail",
	"previous", "prior", "crashed", "revision", "rev", "version", "release", "releases", "helm",
	"chart", "only", "list", "get", "show", "display", "print", "see", "view", "tell", "find",
	"fetch", "look", "inspect", "details", "detail", "describe", "explain", "status", "state",
	"ready", "rolled", "rollout", "out", "progress", "finished", "complete", "healthy", "health",
	"namespace", "ns", "when", "where", "why", "whole", "entire", "across", "everywhere", "-a",
	"--all-namespaces", "all-namespaces", "cluster-wide", "clusterwide", "running", "deployed",
	"warning", "warnings", "errors", "error", "failures", "event", "events", "log", "logs",
	"restart", "restarts", "restarted", "bounce", "recycle", "reboot", "rollback", "roll", "back",
	"undo", "revert", "scale", "scaled", "resize", "bump", "increase", "decrease", "reduce", "grow",
	"shrink", "delete", "remove", "kill", "evict", "uninstall", "history", "diagnose", "wrong",
	"failing", "fail", "fails", "failed", "broken", "crash", "crashing", "crashes", "crashloop",
	"crashloopbackoff", "unhealthy", "troubleshoot", "debug", "problem", "problems", "issue",
	"issues", "check", "investigate", "happened", "working", "work", "works", "up", "install",
	"deploy", "upgrade", "as", "times", "or", "but", "if", "than",
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

var (
	possessive = regexp.MustCompile(`['’]s\b`)
	separators = regexp.MustCompile(`[^a-z0-9./_-]+`)
	// dnsName is what a Kubernetes object name (or a prefix of it) looks like.
	dnsName = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?$`)
)

// tokenize lowercases the request, drops punctuation and possessives, and
// turns number words into digits.
func tokenize(request string) []string {
	s := strings.ToLower(request)
	s = possessive.ReplaceAllString(s, "")
	s = strings.NewReplacer("'", "", "’", "").Replace(s)
	s = separators.ReplaceAllString(s, " ")
	var out []string
	for _, f := range strings.Fields(s) {
		// Keep a leading "-" (flags such as -n, negative numbers); drop
		// sentence punctuation at the ends.
		f = strings.TrimRight(f, "./_-")
		if !strings.HasPrefix(f, "-") {
			f = strings.TrimLeft(f, "./_")
		}
		if f == "" || f == "-" {
			continue
		}
		out = append(out, splitNumberWord(f)...)
	}
	return joinNumberWords(out)
}

// splitNumberWord splits "twenty-five" into "twenty", "five".
func splitNumberWord(f string) []string {
	if a, b, ok := strings.Cut(f, "-"); ok && a != "" {
		_, okA := numberWords[a]
		_, okB := numberWords[b]
		if okA && okB {
			return []string{a, b}
		}
	}
	return []string{f}
}

// joinNumberWords turns number words into digits: "twenty five" → "25".
func joinNumberWords(words []string) []string {
	out := make([]string, 0, len(words))
	for i := 0; i < len(words); i++ {
		n, ok := numberWords[words[i]]
		if !ok {
			out = append(out, words[i])
			continue
		}
		if n >= 20 && n%10 == 0 && n < 100 && i+1 < len(words) {
			if u, ok := numberWords[words[i+1]]; ok && u > 0 && u < 10 {
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

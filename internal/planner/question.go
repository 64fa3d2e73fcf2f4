package planner

import (
	"strings"
)

// A request that asks rather than tells is only ever planned onto read
// tools. This is decided from the shape of the sentence, before any intent
// is matched, so that no change verb in a question ("why did the backend
// restart?", "how do I scale the backend?", "what would happen if I scale
// backend to 0?") can select a change.

// openers are words a request may start with before its verb.
var openers = wordSet("hey", "hi", "hello", "ok", "okay", "so", "and", "then", "well", "also",
	"um", "uh", "opsagent", "please", "pls", "plz", "kindly", "quick", "question", "yo")

// interrogatives start a question.
var interrogatives = wordSet("why", "whys", "how", "hows", "what", "whats", "when", "whens", "where",
	"wheres", "who", "whos", "whom", "whose", "which", "is", "isnt", "are", "arent", "was", "wasnt",
	"were", "werent", "am", "do", "does", "doesnt", "did", "didnt", "has", "hasnt", "have",
	"havent", "had", "should", "shouldnt", "shall", "may", "might", "must", "can", "cant", "could",
	"couldnt", "would", "wouldnt", "will", "wont")

// politeModals make a request out of a question when "you" follows:
// "could you restart the frontend?" asks for a restart.
var politeModals = wordSet("can", "could", "would", "will")

// readVerbs lead requests that ask to be shown or told something.
var readVerbs = wordSet("explain", "describe", "show", "tell", "list", "get", "display", "print",
	"view", "inspect", "check", "diagnose", "investigate", "troubleshoot", "debug", "find", "look",
	"see", "summarize", "summarise", "report", "analyze", "analyse", "review", "fetch", "watch", "ls")

// askingWords make a request a question wherever they appear.
var askingWords = wordSet("why", "how", "hows", "whys")

// hypotheticals are word pairs that make a request a question wherever they
// appear ("what would happen if I scale backend to 0").
var hypotheticals = [][2]string{
	{"what", "if"}, {"what", "would"}, {"what", "will"}, {"what", "happens"}, {"what", "happen"},
	{"would", "happen"}, {"will", "happen"}, {"happen", "if"}, {"happens", "if"}, {"is", "it"},
	{"safe", "to"}, {"should", "i"}, {"should", "we"}, {"do", "i"}, {"can", "i"}, {"could", "i"},
	{"would", "it"}, {"shall", "i"}, {"shall", "we"}, {"may", "i"}, {"ok", "to"}, {"okay", "to"},
}

// leadIn returns the index of the request's verb: after greetings and a
// polite "could you (please)".
func leadIn(toks []string) int {
	i := 0
	for i < len(toks) && openers()[toks[i]] {
		i++
	}
	if i+1 < len(toks) && politeModals()[toks[i]] && (toks[i+1] == "you" || toks[i+1] == "u") {
		i += 2
		for i < len(toks) && openers()[toks[i]] {
			i++
		}
	}
	return i
}

// asks says why a request is a question (or a request to be shown
// something), or "" for a command. start is leadIn's result.
func asks(toks []string, start int, raw string) string {
	polite := start > 0 && start <= len(toks) && slicesContainsYou(toks[:start])
	for _, t := range toks {
		if askingWords()[t] {
			return "it asks " + t
		}
	}
	for i := 0; i+1 < len(toks); i++ {
		for _, h := range hypotheticals {
			if toks[i] == h[0] && toks[i+1] == h[1] {
				return "it asks \"" + h[0] + " " + h[1] + " …\""
			}
		}
	}
	if start < len(toks) {
		switch v := toks[start]; {
		case v == "do" && start+1 < len(toks) && (toks[start+1] == "a" || toks[start+1] == "an"):
			// "do a rolling restart of the backend"
		case interrogatives()[v] && !polite:
			return "it is a question"
		case readVerbs()[v]:
			return "it asks to " + v
		}
	}
	if strings.HasSuffix(strings.TrimSpace(raw), "?") && !polite {
		return "it ends with a question mark"
	}
	return ""
}

func slicesContainsYou(toks []string) bool {
	for _, t := range toks {
		if t == "you" || t == "u" {
			return true
		}
	}
	return false
}

// questionIntent answers a question no read intent matched ("how do I scale
// the backend?", "is it safe to restart the frontend?"): diagnose what it is
// about when it asks why or whether, else describe the object it names.
var questionIntent = intent{
	name: "question", tools: []string{toolDiagnose, toolGet, toolList},
	build: buildQuestion,
}

func buildQuestion(b *builder, r *request) error {
	name, err := r.optionalName("object")
	if err != nil {
		if b.p.has(toolDiagnose) {
			return buildDiagnose(b, r) // several names: the namespace
		}
		return err
	}
	whether := r.any(diagnoseWords...) || r.any("should", "safe", "ok", "okay", "fine")
	switch {
	case r.isHelm() && name != "" && b.p.has(helmStatus):
		return buildHelm(b, r, helmStatus)
	case b.p.has(toolDiagnose) && (whether || name == ""):
		return buildDiagnose(b, r)
	}
	return describeOrList(b, r, name)
}

// describeOrList describes the named object (a deployment unless a kind is
// given), or lists the named kind, or shows what runs in the namespace.
func describeOrList(b *builder, r *request, name string) error {
	switch {
	case name != "":
		kind := "deployment"
		if r.kind != nil {
			kind = r.kind.Name
		}
		b.add(toolGet, getArgs{Kind: kind, Name: name, Namespace: r.namespace})
		return nil
	case r.kind != nil:
		b.add(toolList, listArgs{Kind: r.kind.Name, Namespace: r.namespace, AllNamespaces: r.allNamespaces})
		return nil
	}
	return buildOverview(b, r)
}

package planner

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/opsagent/opsagent/internal/tools/diagtools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
	"github.com/opsagent/opsagent/internal/tools/usagetools"
)

// intent is one kind of request the planner understands. intents are tried
// in order; the first whose match is true builds the plan.
type intent struct {
	name    string
	tools   []string // tools it may call, for Help
	example string
	doc     string
	// change is set for intents that ask for a change: they are never
	// tried for a question (see request.asks).
	change bool
	// words are the keywords the intent uses up: a plan whose request
	// holds other content words did not use all of it (see Plan.Ignored).
	words []string
	match func(r *request) bool
	build func(b *builder, r *request) error
}

// Tool names the planner knows how to call.
const (
	toolList     = kubetools.NameListResources
	toolGet      = kubetools.NameGetResource
	toolLogs     = kubetools.NamePodLogs
	toolEvents   = kubetools.NameListEvents
	toolScale    = kubetools.NameScaleWorkload
	toolRestart  = kubetools.NameRestartWorkload
	toolRollout  = kubetools.NameRolloutStatus
	toolRollback = kubetools.NameRollbackDeployment
	toolDelete   = kubetools.NameDeletePod
	toolDiagnose = diagtools.NameDiagnose
	toolExplain  = diagtools.NameExplain
	helmStatus   = releasetools.NameStatus
	helmHistory  = releasetools.NameHistory
	helmRollback = releasetools.NameRollback
	helmRemove   = releasetools.NameUninstall
	helmDeploy   = releasetools.NameDeploy
)

// toolRecommend answers "is the backend oversized?".
const toolRecommend = usagetools.NameRecommend

var diagnoseWords = []string{
	"why", "wrong", "diagnose", "failing", "fails", "failed", "broken", "crash", "crashing",
	"crashes", "crashloop", "crashloopbackoff", "unhealthy", "troubleshoot", "debug", "problem",
	"problems", "issue", "issues", "investigate", "healthy", "health",
}

// Keywords the scale intent uses.
var (
	scaleVerbs = []string{"scale", "scaled", "resize", "bump", "increase", "decrease", "reduce", "grow", "shrink"}
	scaleWords = append([]string{"replicas", "replica", "instances", "instance", "copies", "copy", "count",
		"number", "size", "total", "percent", "pct"}, scaleVerbs...)
	helmWords = []string{"helm", "release", "releases", "chart"}
)

// intents in priority order: a request naming both a change and a read
// ("restart the failing backend") is the change. The focused change intents
// come before scale, whose verbs ("resize", "grow") they share.
var intents = []intent{
	{
		name: "delete-pod", tools: []string{toolDelete}, change: true,
		example: "delete pod NAME", doc: "delete one pod (needs --allow-destructive)",
		words: []string{"delete", "remove", "kill", "evict"},
		match: func(r *request) bool { return r.any("delete", "remove", "kill", "evict") && !r.isHelm() },
		build: buildDeletePod,
	},
	{
		name: "helm-uninstall", tools: []string{helmRemove}, change: true,
		example: "uninstall release NAME", doc: "uninstall a Helm release",
		words: append([]string{"uninstall", "delete", "remove"}, helmWords...),
		match: func(r *request) bool {
			return r.any("uninstall") || (r.isHelm() && r.any("delete", "remove"))
		},
		build: func(b *builder, r *request) error { return buildHelm(b, r, helmRemove) },
	},
	setImageIntent,
	{
		// Before scale: "deploy todo-chatbot with 2 backend replicas" names
		// replicas but is an install.
		name: "helm-install", tools: []string{helmDeploy}, change: true,
		example: "install the todo app [with 2 backend replicas]", doc: "install or upgrade the Todo Chatbot chart",
		words: append([]string{"install", "upgrade", "reinstall", "deploy", "redeploy", "replicas", "replica",
			"todo", "chatbot", "todo-app", "todo-chatbot", "frontend", "backend"}, helmWords...),
		match: func(r *request) bool {
			return r.any("install", "upgrade", "reinstall") || r.verb == "deploy" || r.verb == "redeploy"
		},
		build: buildHelmInstall,
	},
	{
		name: "rollback", tools: []string{toolRollback, helmRollback}, change: true,
		example: "roll back backend [to revision N]", doc: "roll a deployment (or a Helm release) back",
		words: append([]string{"rollback", "undo", "revert", "roll", "back", "revision", "rev", "version", "rollout",
			"previous", "image"}, helmWords...),
		match: func(r *request) bool {
			return r.any("rollback", "undo", "revert") || r.phrase("roll", "back") ||
				(r.has["roll"] && r.has["back"])
		},
		build: buildRollback,
	},
	{
		name: "restart", tools: []string{toolRestart}, change: true,
		example: "restart the frontend", doc: "rolling restart of a workload",
		words: []string{"restart", "bounce", "recycle", "reboot", "rollout", "rolling"},
		match: func(r *request) bool { return r.any("restart", "bounce", "recycle", "reboot") },
		build: func(b *builder, r *request) error { return buildWorkload(b, r, toolRestart) },
	},
	uncordonIntent,
	cordonIntent,
	drainIntent,
	createConfigMapIntent,
	setEnvIntent,
	autoscaleIntent,
	setResourcesIntent,
	exposeIntent,
	resizePVCIntent,
	{
		name: "scale", tools: []string{toolScale}, change: true,
		example: "scale backend to 3 / scale backend up by 50%", doc: "set the replicas of a deployment or statefulset",
		words: scaleWords,
		match: func(r *request) bool {
			return r.any(scaleVerbs...) ||
				(r.any("replicas", "replica", "instances", "copies") && len(r.numbers) > 0)
		},
		build: buildScale,
	},
	{
		name: "logs", tools: []string{toolLogs},
		example: "show logs of backend [last 50 lines]", doc: "logs of a pod (or of a workload's pod)",
		match: func(r *request) bool { return r.any("logs", "log") },
		build: buildLogs,
	},
	{
		name: "events", tools: []string{toolEvents},
		example: "events in todo [warnings only]", doc: "recent events, optionally for one object",
		match: func(r *request) bool { return r.any("events", "event") },
		build: buildEvents,
	},
	{
		// Before diagnose: "why is the backend oversized?" asks for sizes.
		name: "recommend", tools: []string{toolRecommend},
		example: "is the backend oversized?", doc: "right-size CPU and memory from usage",
		words: append(slices.Clone(recommendWords), recommendFillers...),
		match: func(r *request) bool { return r.any(recommendWords...) },
		build: buildRecommend,
	},
	{
		name: "diagnose", tools: []string{toolDiagnose, toolExplain},
		example: "why is the backend failing?", doc: "diagnose problems",
		match: func(r *request) bool { return r.any(diagnoseWords...) || r.any("explain") },
		build: buildDiagnose,
	},
	{
		name: "helm-status", tools: []string{helmStatus, helmHistory},
		example: "helm status NAME / history of release NAME", doc: "status or history of a Helm release",
		match: func(r *request) bool { return r.isHelm() && r.any("status", "history", "state") },
		build: func(b *builder, r *request) error {
			if r.has["history"] {
				return buildHelm(b, r, helmHistory)
			}
			return buildHelm(b, r, helmStatus)
		},
	},
	{
		name: "rollout-status", tools: []string{toolRollout},
		example: "rollout status of backend", doc: "wait for a workload's rollout",
		match: func(r *request) bool {
			return r.any("status", "rolled", "rollout", "ready", "progress", "finished")
		},
		build: func(b *builder, r *request) error { return buildWorkload(b, r, toolRollout) },
	},
	{
		name: "overview", tools: []string{toolList},
		example: "what's running in todo", doc: "deployments and pods of a namespace",
		match: func(r *request) bool {
			return r.kind == nil && len(r.names()) == 0 && (r.any("running", "deployed", "everything") ||
				(r.any("list", "get", "show") && r.has["all"]))
		},
		build: buildOverview,
	},
	{
		name: "get", tools: []string{toolList, toolGet},
		example: "list pods / get deployments in todo / describe the backend", doc: "list or show objects",
		match: func(r *request) bool {
			return r.any("list", "get", "show", "display", "print", "see", "view", "describe", "inspect",
				"details", "detail", "ls", "find", "fetch", "which") || (r.kind != nil && len(r.names()) == 0)
		},
		build: buildGet,
	},
}

func buildOverview(b *builder, r *request) error {
	for _, kind := range []string{"deployment", "pod"} {
		b.add(toolList, listArgs{Kind: kind, Namespace: r.namespace, AllNamespaces: r.allNamespaces})
	}
	return nil
}

func (r *request) isHelm() bool { return r.any("helm", "release", "releases", "chart") }

// workloadKind returns the kind argument for workload tools: empty when no
// kind or a non-workload kind (e.g. "the backend pods") was named.
func (r *request) workloadKind() string {
	if r.kind == nil || !r.kind.Workload {
		return ""
	}
	return r.kind.Name
}

func buildWorkload(b *builder, r *request, tool string) error {
	name, err := r.name("workload")
	if err != nil {
		return err
	}
	b.add(tool, workloadArgs{Kind: r.workloadKind(), Name: name, Namespace: r.namespace})
	return nil
}

func buildScale(b *builder, r *request) error {
	name, err := r.name("workload")
	if err != nil {
		return err
	}
	up := r.any("up", "increase", "grow", "bump", "more")
	down := r.any("down", "decrease", "reduce", "shrink", "less", "fewer")
	if len(r.numbers) == 0 {
		if up || down {
			return fmt.Errorf("how many replicas? relative changes are not guessed: say e.g. \"scale %s to 3\" or \"scale %s up by 50%%\"", name, name)
		}
		return fmt.Errorf("how many replicas? say e.g. \"scale %s to 3\"", name)
	}
	if len(r.numbers) > 1 {
		return errors.New("more than one number in the request; give exactly one replica count")
	}
	n := r.numbers[0]
	switch {
	case n.parseFailed != nil:
		return errors.New("the replica count is too large")
	case n.percent:
		return buildScalePercent(b, r, name, n, up, down)
	case n.before == "by" || ((up || down) && n.before != "to"):
		return fmt.Errorf("scaling by a count needs the live replicas, which the planner does not read: say the new total (\"scale %s to N\") or a percentage (\"scale %s up by 100%%\")", name, name)
	case n.value < 0:
		return fmt.Errorf("replicas must be 0 or more, not %d", n.value)
	}
	b.add(toolScale, scaleArgs{Kind: r.workloadKind(), Name: name, Namespace: r.namespace, Replicas: n.value})
	return nil
}

// buildScalePercent plans "scale X up by 100%" / "down by 50%": the tool
// computes the new count from the live replicas and shows it in its preview.
func buildScalePercent(b *builder, r *request, name string, n number, up, down bool) error {
	pct := n.value
	switch {
	case n.before == "to":
		return fmt.Errorf("\"to %d%%\" is not a replica count: say \"scale %s up by %d%%\", \"down by %d%%\" or \"to N\"", pct, name, pct, pct)
	case pct < 0 && (up || down), up && down:
		return errors.New("say one direction: up or down")
	case pct == 0:
		return errors.New("a change of 0% changes nothing")
	case pct < 0:
	case down:
		pct = -pct
	case !up:
		return fmt.Errorf("up or down by %d%%? say e.g. \"scale %s up by %d%%\"", pct, name, pct)
	}
	b.add(toolScale, scalePercentArgs{Kind: r.workloadKind(), Name: name, Namespace: r.namespace, ChangePercent: pct})
	return nil
}

func buildRollback(b *builder, r *request) error {
	if r.isHelm() && b.p.has(helmRollback) {
		return buildHelm(b, r, helmRollback)
	}
	if r.kind != nil && r.kind.Name != "deployment" {
		return fmt.Errorf("only deployments can be rolled back, not %ss", r.kind.Name)
	}
	name, err := r.name("deployment")
	if err != nil {
		return err
	}
	rev, err := r.revision()
	if err != nil {
		return err
	}
	b.add(toolRollback, rollbackArgs{Name: name, Namespace: r.namespace, Revision: rev})
	return nil
}

// revision returns the revision number in the request, 0 if none.
func (r *request) revision() (int, error) {
	switch len(r.numbers) {
	case 0:
		return 0, nil
	case 1:
		n := r.numbers[0]
		if n.parseFailed != nil || n.value <= 0 {
			return 0, errors.New("a revision is a positive number")
		}
		return n.value, nil
	}
	return 0, errors.New("more than one number in the request; give one revision")
}

func buildLogs(b *builder, r *request) error {
	name, err := r.name("pod or workload")
	if err != nil {
		return err
	}
	args := logsArgs{Name: name, Namespace: r.namespace, Container: r.container,
		Previous: r.any("previous", "prior", "crashed", "before")}
	for _, n := range r.numbers {
		if n.before == "last" || n.before == "tail" || n.before == "latest" || n.after == "lines" || n.after == "line" {
			if n.parseFailed != nil || n.value <= 0 {
				return errors.New("the number of lines must be a positive number")
			}
			args.Tail = n.value
			continue
		}
		return fmt.Errorf("what is the number %d for? say e.g. \"last 50 lines\"", n.value)
	}
	b.add(toolLogs, args)
	return nil
}

func buildEvents(b *builder, r *request) error {
	name, err := r.optionalName("object")
	if err != nil {
		return err
	}
	if r.allNamespaces {
		return errors.New("events are listed one namespace at a time; name one with \"in NAMESPACE\"")
	}
	args := eventsArgs{Namespace: r.namespace, Name: name,
		WarningsOnly: r.any("warning", "warnings", "errors", "error", "failures", "problems")}
	if r.kind != nil && name != "" { // a kind alone is not a filter list_events takes
		args.Kind = r.kind.Name
	}
	b.add(toolEvents, args)
	return nil
}

// recommendWords ask whether requests and limits fit the usage.
var recommendWords = []string{"oversized", "undersized", "overprovisioned", "underprovisioned", "over-provisioned",
	"under-provisioned", "rightsize", "right-size", "rightsizing", "right-sizing", "recommend", "recommendation",
	"recommendations", "right-sized", "rightsized"}

// recommendFillers are words of a sizing question that name no object.
var recommendFillers = []string{"resources", "resource", "sizes", "size", "sizing", "everything", "all",
	"workloads", "cpu", "memory", "requests", "limits", "usage"}

func buildRecommend(b *builder, r *request) error {
	for i, t := range r.toks {
		if slices.Contains(recommendWords, t) || slices.Contains(recommendFillers, t) {
			r.take(i)
		}
	}
	name, err := r.optionalName("workload")
	if err != nil {
		name = "" // several names: the whole namespace
	}
	c := map[string]any{}
	if name != "" {
		c["name"] = name
	}
	if r.namespace != "" {
		c["namespace"] = r.namespace
	}
	b.addLoose(toolRecommend, c)
	return nil
}

func buildDiagnose(b *builder, r *request) error {
	name, err := r.optionalName("object")
	if err != nil && b.readOnly && b.p.has(toolDiagnose) {
		// A question about several things: look at the whole namespace.
		name, err = "", nil
	}
	if err != nil {
		return err
	}
	// explain needs a name; without one, diagnose looks at the namespace.
	tool := toolDiagnose
	if name != "" && (r.has["explain"] && b.p.has(toolExplain) || !b.p.has(toolDiagnose)) {
		tool = toolExplain
	}
	if !b.p.has(tool) && b.readOnly && b.p.has(toolGet) && b.p.has(toolList) {
		return describeOrList(b, r, name) // a question still gets an answer
	}
	if !b.p.has(tool) {
		return errors.New("diagnosis is not available yet in this build; try \"events in NAMESPACE warnings\" or \"show logs of NAME\"")
	}
	c := map[string]any{}
	if name != "" {
		c["name"] = name
	}
	if r.namespace != "" {
		c["namespace"] = r.namespace
	}
	if r.allNamespaces {
		c["all_namespaces"] = true
	}
	if r.kind != nil {
		c["kind"] = r.kind.Name
	}
	b.addLoose(tool, c)
	return nil
}

// buildHelm plans the Helm release tools, whose release argument is called
// "release" or "name" depending on the tool's schema.
func buildHelm(b *builder, r *request, tool string) error {
	if !b.p.has(tool) {
		return fmt.Errorf("%s is not available yet in this build", tool)
	}
	name, err := r.name("release")
	if err != nil {
		return err
	}
	c := map[string]any{"release": name, "name": name}
	if r.namespace != "" {
		c["namespace"] = r.namespace
	}
	if tool == helmRollback {
		rev, err := r.revision()
		if err != nil {
			return err
		}
		if rev > 0 {
			c["revision"] = rev
		}
	}
	if t, err := b.p.reg.Lookup(tool); err == nil {
		if _, ok := t.Schema().Properties["release"]; ok {
			delete(c, "name")
		}
	}
	b.addLoose(tool, c)
	return nil
}

func buildDeletePod(b *builder, r *request) error {
	if r.kind == nil || r.kind.Name != "pod" {
		what := "that"
		if r.kind != nil {
			what = r.kind.Name + "s"
		}
		return fmt.Errorf("only single pods can be deleted (delete pod NAME); deleting %s is not supported", what)
	}
	if r.has["all"] || r.has["every"] {
		return errors.New("pods are deleted one at a time: name one pod")
	}
	name, err := r.name("pod")
	if err != nil {
		return err
	}
	b.add(toolDelete, podArgs{Name: name, Namespace: r.namespace})
	return nil
}

func buildGet(b *builder, r *request) error {
	name, err := r.optionalName("object")
	if err != nil {
		return err
	}
	plural := r.kind != nil && r.kindPlural()
	switch {
	case name == "" && r.kind == nil:
		return errors.New("list what? say e.g. \"list pods\" or \"get deployments in todo\"")
	case name == "" || (plural && r.explicitName == "" && !r.any("describe", "inspect", "details", "detail")):
		if name != "" {
			return fmt.Errorf("%q: use either a kind (\"list %ss\") or one name (\"describe %s %s\")", name, r.kind.Name, r.kind.Name, name)
		}
		limit := 0
		for _, n := range r.numbers {
			if n.parseFailed == nil && n.value > 0 {
				limit = n.value
			}
		}
		b.add(toolList, listArgs{Kind: r.kind.Name, Namespace: r.namespace, AllNamespaces: r.allNamespaces, Limit: limit})
	default:
		kind := "deployment"
		if r.kind != nil {
			kind = r.kind.Name
		}
		b.add(toolGet, getArgs{Kind: kind, Name: name, Namespace: r.namespace})
	}
	return nil
}

// kindPlural reports whether the kind was named in the plural ("pods").
func (r *request) kindPlural() bool {
	for t := range r.has {
		if k, ok := kindWords()[t]; ok && k.Name == r.kind.Name && t != k.Name && strings.HasSuffix(t, "s") {
			return true
		}
	}
	return false
}

// componentNames are the Todo Chatbot chart's components, whose replica
// counts a request may set ("with 2 backend replicas").
var componentNames = []string{"frontend", "backend"}

// buildHelmInstall maps an install request onto helm_deploy with the
// embedded chart. The release is todo-chatbot unless another name-like word
// is given; "N backend replicas" becomes --set backend.replicaCount=N.
func buildHelmInstall(b *builder, r *request) error {
	if !b.p.has(helmDeploy) {
		return fmt.Errorf("%s is not available yet in this build", helmDeploy)
	}
	c := map[string]any{}
	var sets []string
	for _, n := range r.numbers {
		if n.parseFailed != nil {
			return n.parseFailed
		}
		comp := ""
		for _, name := range componentNames {
			if n.after == name || n.before == name {
				comp = name
			}
		}
		if comp == "" {
			return fmt.Errorf("which component should have %d replicas? say e.g. \"with %d backend replicas\"", n.value, n.value)
		}
		if n.value < 0 || n.value > 1000 {
			return fmt.Errorf("replicas must be between 0 and 1000, got %d", n.value)
		}
		sets = append(sets, fmt.Sprintf("%s.replicaCount=%d", comp, n.value))
	}
	if len(sets) > 0 {
		c["values_set"] = sets
	}
	// Words that only describe the app are not a release name.
	var names []string
	for _, n := range r.names() {
		if !slices.Contains([]string{"todo", "app", "chatbot", "todo-app", "todo-chatbot", "frontend", "backend", "replicas", "replica", "release", "chart", "helm"}, n) {
			names = append(names, n)
		}
	}
	switch len(names) {
	case 0:
	case 1:
		c["release"] = names[0]
	default:
		return fmt.Errorf("found several possible release names (%s); name exactly one", strings.Join(names, ", "))
	}
	if r.namespace != "" {
		c["namespace"] = r.namespace
	}
	b.addLoose(helmDeploy, c)
	return nil
}

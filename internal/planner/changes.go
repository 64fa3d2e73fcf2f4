package planner

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/opsagent/opsagent/internal/tools/configtools"
	"github.com/opsagent/opsagent/internal/tools/kubetools"
	"github.com/opsagent/opsagent/internal/tools/nodetools"
)

// The focused change intents: one tool each, every argument read from the
// request or left to the tool's default, none guessed.

const (
	toolSetImage        = kubetools.NameSetImage
	toolSetResources    = kubetools.NameSetResources
	toolSetEnv          = kubetools.NameSetEnv
	toolExpose          = kubetools.NameExpose
	toolAutoscale       = kubetools.NameAutoscale
	toolResizePVC       = kubetools.NameResizePVC
	toolCordon          = nodetools.NameCordonNode
	toolUncordon        = nodetools.NameUncordonNode
	toolDrain           = nodetools.NameDrainNode
	toolCreateConfigMap = configtools.NameCreateConfigMap
)

var setImageIntent = intent{
	name: "set-image", tools: []string{toolSetImage}, change: true,
	example: "set backend image to todo-backend:1.4", doc: "change a workload's container image",
	words: []string{"image", "images", "tag", "version", "upgrade", "use"},
	match: func(r *request) bool {
		return r.any("image", "images") && (len(r.images) > 0 || r.imageAfterTo() >= 0)
	},
	build: buildSetImage,
}

// imageAfterTo returns the index of X in "image … to X" when X is name-like
// ("set frontend image to nginx"), or -1.
func (r *request) imageAfterTo() int {
	seenImage := false
	for i, t := range r.toks {
		switch {
		case t == "image" || t == "images":
			seenImage = true
		case seenImage && (t == "to" || t == "=") && i+1 < len(r.toks) && !r.used[i+1] && isNameLike(r.toks[i+1]):
			return i + 1
		}
	}
	return -1
}

func buildSetImage(b *builder, r *request) error {
	image := ""
	switch len(r.images) {
	case 0:
		i := r.imageAfterTo()
		image = r.raws[i]
		r.take(i)
	case 1:
		image = r.images[0]
	default:
		return fmt.Errorf("found several images (%s); set one image at a time", strings.Join(r.images, ", "))
	}
	name, err := r.name("workload")
	if err != nil {
		return err
	}
	b.add(toolSetImage, setImageArgs{Kind: r.workloadKind(), Name: name, Namespace: r.namespace,
		Container: r.container, Image: image})
	return nil
}

var setResourcesIntent = intent{
	name: "set-resources", tools: []string{toolSetResources}, change: true,
	example: "give backend 512Mi memory / set backend cpu limit to 500m", doc: "set a container's requests and limits",
	words: []string{"memory", "mem", "ram", "cpu", "cpus", "core", "cores", "limit", "limits", "request",
		"requests", "resources", "more", "increase"},
	match: func(r *request) bool {
		return r.any("memory", "mem", "ram", "cpu", "cpus") &&
			(len(r.quantities) > 0 || len(r.numbers) > 0 || r.any("limit", "limits", "request", "requests", "give"))
	},
	build: buildSetResources,
}

// buildSetResources reads (resource, field, quantity) triples in order:
// "set backend memory limit to 1Gi and cpu request to 250m". A resource or
// field word before a quantity applies to it, or a resource word right after
// it ("512Mi memory"). Memory without "limit" or "request" sets both (the
// usual fix for an OOMKilled container); CPU without one is asked about, as
// a CPU limit throttles.
func buildSetResources(b *builder, r *request) error {
	args := setResourcesArgs{Kind: r.workloadKind(), Namespace: r.namespace, Container: r.container}
	var res, field string
	taken := map[int]bool{}
	assigned := 0
	for i, t := range r.toks {
		switch {
		case taken[i]:
		case t == "memory" || t == "mem" || t == "ram":
			res = "memory"
		case t == "cpu" || t == "cpus" || t == "core" || t == "cores":
			res = "cpu"
		case t == "limit" || t == "limits":
			field = "limits"
		case t == "request" || t == "requests":
			field = "requests"
		default:
			q, ok := r.quantityAt(i)
			if !ok {
				continue
			}
			if res == "" { // "512Mi (of) memory"
				j := i + 1
				for j < len(r.toks) && stopwords()[r.toks[j]] {
					j++
				}
				switch r.tok(j) {
				case "memory", "mem", "ram":
					res, taken[j] = "memory", true
				case "cpu", "cpus", "core", "cores":
					res, taken[j] = "cpu", true
				}
			}
			if res == "" {
				return fmt.Errorf("is %s memory or cpu? say e.g. \"give backend 512Mi memory\" or \"set backend cpu limit to 500m\"", q)
			}
			if err := args.set(res, field, q); err != nil {
				return err
			}
			res, field = "", ""
			assigned++
		}
	}
	if assigned == 0 {
		return errors.New("how much? give a quantity, e.g. \"512Mi\" of memory or \"500m\" of cpu")
	}
	if res != "" || field != "" {
		return errors.New("a resource or limit/request word has no quantity after it; give one quantity for each")
	}
	name, err := r.name("workload")
	if err != nil {
		return err
	}
	args.Name = name
	b.add(toolSetResources, args)
	return nil
}

// quantityAt returns the quantity or plain number written at toks[i].
func (r *request) quantityAt(i int) (string, bool) {
	for _, q := range r.quantities {
		if q.index == i {
			return q.raw, true
		}
	}
	if n, ok := r.number(i); ok && r.used[i] && !n.percent {
		return r.raws[i], true
	}
	return "", false
}

// set records quantity q for resource res ("memory", "cpu") and field
// ("limits", "requests", or "" for memory: both).
func (a *setResourcesArgs) set(res, field, q string) error {
	var err error
	if res == "memory" {
		q, err = memoryQuantity(q)
	} else {
		q, err = cpuQuantity(q)
	}
	if err != nil {
		return err
	}
	var slots []*string
	switch {
	case res == "memory" && field == "":
		slots = []*string{&a.RequestsMemory, &a.LimitsMemory}
	case res == "cpu" && field == "":
		return fmt.Errorf("cpu request or cpu limit? say e.g. \"set backend cpu request to %s\" (a limit throttles the container)", q)
	case res == "memory" && field == "limits":
		slots = []*string{&a.LimitsMemory}
	case res == "memory":
		slots = []*string{&a.RequestsMemory}
	case field == "limits":
		slots = []*string{&a.LimitsCPU}
	default:
		slots = []*string{&a.RequestsCPU}
	}
	for _, s := range slots {
		if *s != "" {
			return fmt.Errorf("the %s %s is given twice", res, strings.TrimSuffix(field, "s"))
		}
		*s = q
	}
	return nil
}

// binarySuffixes are written in any case ("512mi"); their spelling is fixed.
var binarySuffixes = sync.OnceValue(func() map[string]string {
	return map[string]string{"ki": "Ki", "mi": "Mi", "gi": "Gi", "ti": "Ti", "pi": "Pi", "ei": "Ei"}
})

// splitQuantity splits "512Mi" into "512", "Mi".
func splitQuantity(q string) (num, suffix string) {
	i := strings.IndexFunc(q, func(c rune) bool { return (c < '0' || c > '9') && c != '.' })
	if i < 0 {
		return q, ""
	}
	return q[:i], q[i:]
}

// byteQuantity checks a memory or storage size: a binary (Mi, Gi) or
// decimal (M, G) unit is required; "512MB" or "5g" is asked about rather
// than read as something Kubernetes would take differently.
func byteQuantity(what, q string) (string, error) {
	num, suffix := splitQuantity(q)
	if fixed, ok := binarySuffixes()[strings.ToLower(suffix)]; ok {
		suffix = fixed
	}
	switch suffix {
	case "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E":
	case "":
		return "", fmt.Errorf("%s %s has no unit: say e.g. %sMi or %sGi", what, q, num, num)
	case "m":
		return "", fmt.Errorf("%s %s is %s thousandths of a byte: did you mean %sMi?", what, q, num, num)
	default:
		return "", fmt.Errorf("%s %s is not a Kubernetes quantity: say %s%s (binary) or %s%s (decimal)",
			what, q, num, binaryFor(suffix), num, strings.ToUpper(suffix[:1]))
	}
	out := num + suffix
	if _, err := resource.ParseQuantity(out); err != nil {
		return "", fmt.Errorf("%s %s is not a valid quantity: %v", what, q, err)
	}
	return out, nil
}

func binaryFor(suffix string) string {
	if s, ok := binarySuffixes()[strings.ToLower(suffix[:1])+"i"]; ok {
		return s
	}
	return "Mi"
}

func memoryQuantity(q string) (string, error) { return byteQuantity("memory", q) }

// cpuQuantity checks a CPU amount: cores ("2", "0.5") or millicores ("500m").
func cpuQuantity(q string) (string, error) {
	num, suffix := splitQuantity(q)
	if suffix != "" && suffix != "m" {
		return "", fmt.Errorf("cpu %s: cpu is counted in cores (\"0.5\", \"2\") or millicores (\"500m\")", q)
	}
	if _, err := resource.ParseQuantity(num + suffix); err != nil {
		return "", fmt.Errorf("cpu %s is not a valid quantity: %v", q, err)
	}
	return num + suffix, nil
}

var setEnvIntent = intent{
	name: "set-env", tools: []string{toolSetEnv}, change: true,
	example: "set env LOG_LEVEL=debug on the backend", doc: "set environment variables of a workload",
	words: []string{"env", "environment", "variable", "variables", "var", "vars", "envvar"},
	match: func(r *request) bool {
		return r.any("env", "environment", "variable", "variables", "var", "vars", "envvar")
	},
	build: buildSetEnv,
}

func buildSetEnv(b *builder, r *request) error {
	if len(r.pairs) == 0 {
		return errors.New("which variable? say it as NAME=VALUE, e.g. \"set env LOG_LEVEL=debug on the backend\"")
	}
	var vars []envVar
	for _, p := range r.pairs {
		if slices.ContainsFunc(vars, func(v envVar) bool { return v.Name == p.key }) {
			return fmt.Errorf("variable %s is given twice", p.key)
		}
		vars = append(vars, envVar{Name: p.key, Value: p.value})
	}
	name, err := r.name("workload")
	if err != nil {
		return err
	}
	b.add(toolSetEnv, setEnvArgs{Kind: r.workloadKind(), Name: name, Namespace: r.namespace, Container: r.container, Set: vars})
	return nil
}

var exposeIntent = intent{
	name: "expose", tools: []string{toolExpose}, change: true,
	example: "expose frontend on port 80", doc: "create a Service for a workload",
	words: []string{"expose", "port", "ports", "target", "targetport", "nodeport", "loadbalancer", "clusterip", "type"},
	match: func(r *request) bool { return r.any("expose") },
	build: buildExpose,
}

func buildExpose(b *builder, r *request) error {
	args := exposeArgs{Kind: r.workloadKind(), Namespace: r.namespace}
	for _, n := range r.numbers {
		if n.parseFailed != nil || n.percent || n.value < 1 || n.value > 65535 {
			return fmt.Errorf("a port is a number from 1 to 65535, not %s", r.raws[n.index])
		}
		target := n.before == "target" || n.before == "targetport" ||
			(n.before == "port" && slices.Contains([]string{"target", "container"}, r.tok(n.index-2)))
		switch {
		case target && args.TargetPort == 0:
			args.TargetPort = n.value
		case !target && args.Port == 0:
			args.Port = n.value
		default:
			return errors.New("more than one port in the request; give one port (and optionally \"target port N\")")
		}
	}
	for _, t := range []struct{ word, typ string }{{"nodeport", "NodePort"}, {"loadbalancer", "LoadBalancer"}, {"clusterip", "ClusterIP"}} {
		if r.has[t.word] {
			if args.Type != "" {
				return errors.New("more than one service type in the request")
			}
			args.Type = t.typ
		}
	}
	if r.kind != nil && r.kind.Name == "service" { // "expose the frontend as a service"
		r.kind = nil
	}
	name, err := r.name("workload")
	if err != nil {
		return err
	}
	args.Name = name
	b.add(toolExpose, args)
	return nil
}

var autoscaleIntent = intent{
	name: "autoscale", tools: []string{toolAutoscale}, change: true,
	example: "autoscale backend from 2 to 5 at 70% cpu", doc: "autoscale a workload on CPU (HPA)",
	words: []string{"autoscale", "autoscaler", "autoscaling", "create", "between", "min", "minimum", "max", "maximum",
		"percent", "pct", "cpu", "utilization", "utilisation", "target", "replicas", "replica", "pods"},
	match: func(r *request) bool {
		return r.any("autoscale", "autoscaler", "autoscaling") ||
			(r.kind != nil && r.kind.Name == "horizontalpodautoscaler" && len(r.numbers) > 0)
	},
	build: buildAutoscale,
}

func buildAutoscale(b *builder, r *request) error {
	if r.kind != nil && r.kind.Name == "horizontalpodautoscaler" {
		r.kind = nil
	}
	args := autoscaleArgs{Kind: r.workloadKind(), Namespace: r.namespace}
	var counts []number
	for _, n := range r.numbers {
		switch {
		case n.parseFailed != nil:
			return errors.New("a number in the request is too large")
		case n.before == "min" || n.before == "minimum":
			args.MinReplicas = n.value
		case n.before == "max" || n.before == "maximum":
			args.MaxReplicas = n.value
		case n.percent || n.after == "cpu" || n.before == "cpu":
			if args.CPUPercent != 0 {
				return errors.New("more than one CPU target in the request")
			}
			args.CPUPercent = n.value
		default:
			counts = append(counts, n)
		}
	}
	for _, n := range counts {
		switch {
		case args.MinReplicas == 0:
			args.MinReplicas = n.value
		case args.MaxReplicas == 0:
			args.MaxReplicas = n.value
		default:
			return errors.New("too many numbers: give a minimum, a maximum and a CPU target, e.g. \"from 2 to 5 at 70% cpu\"")
		}
	}
	name, err := r.name("workload")
	if err != nil {
		return err
	}
	switch {
	case args.MinReplicas == 0 || args.MaxReplicas == 0:
		return fmt.Errorf("between how many replicas? say e.g. \"autoscale %s from 2 to 5 at 70%% cpu\"", name)
	case args.CPUPercent == 0:
		return fmt.Errorf("at what CPU target? say e.g. \"autoscale %s from %d to %d at 70%% cpu\"", name, args.MinReplicas, args.MaxReplicas)
	case args.MinReplicas > args.MaxReplicas:
		return fmt.Errorf("the minimum (%d) is above the maximum (%d)", args.MinReplicas, args.MaxReplicas)
	}
	args.Name = name
	b.add(toolAutoscale, args)
	return nil
}

var resizePVCIntent = intent{
	name: "resize-pvc", tools: []string{toolResizePVC}, change: true,
	example: "resize the database volume to 5Gi", doc: "grow a PersistentVolumeClaim",
	words: []string{"resize", "grow", "expand", "extend", "increase", "enlarge", "volume", "volumes", "disk",
		"storage", "claim", "size", "bigger"},
	match: func(r *request) bool {
		pvc := r.kind != nil && r.kind.Name == "persistentvolumeclaim"
		return (pvc || r.any("volume", "disk", "storage", "claim")) &&
			(r.any("resize", "grow", "expand", "extend", "increase", "enlarge") || len(r.quantities) > 0)
	},
	build: buildResizePVC,
}

// buildResizePVC passes the name as spoken ("database" in "the database
// volume"): resize_pvc resolves it against the namespace's claims.
func buildResizePVC(b *builder, r *request) error {
	if len(r.quantities) != 1 {
		if len(r.quantities) == 0 && len(r.numbers) > 0 {
			return fmt.Errorf("%d what? give the new size with its unit, e.g. %dGi", r.numbers[0].value, r.numbers[0].value)
		}
		return errors.New("to what size? give one size, e.g. \"resize the database volume to 5Gi\"")
	}
	if len(r.numbers) > 0 {
		return errors.New("more than one size in the request; give exactly one")
	}
	size, err := byteQuantity("size", r.quantities[0].raw)
	if err != nil {
		return err
	}
	if r.kind != nil && r.kind.Name != "persistentvolumeclaim" {
		return fmt.Errorf("only PersistentVolumeClaims can be resized, not %ss", r.kind.Name)
	}
	name, err := r.name("volume")
	if err != nil {
		return err
	}
	b.add(toolResizePVC, resizePVCArgs{Name: name, Namespace: r.namespace, Size: size})
	return nil
}

func nodeIntent(name, tool, verb, doc string) intent {
	return intent{
		name: name, tools: []string{tool}, change: true,
		example: verb + " NODE", doc: doc,
		words: []string{verb},
		match: func(r *request) bool { return r.has[verb] },
		build: func(b *builder, r *request) error { return buildNode(b, r, tool) },
	}
}

var (
	cordonIntent   = nodeIntent("cordon", toolCordon, "cordon", "stop scheduling pods on a node")
	uncordonIntent = nodeIntent("uncordon", toolUncordon, "uncordon", "allow scheduling on a node again")
	drainIntent    = nodeIntent("drain", toolDrain, "drain", "evict a node's pods (needs --allow-destructive)")
)

// buildNode plans a node tool. Node names are matched exactly by the tools.
func buildNode(b *builder, r *request, tool string) error {
	if r.kind != nil && r.kind.Name != "node" {
		return fmt.Errorf("only nodes can be %s, not %ss", strings.TrimSuffix(tool, "_node")+"ed", r.kind.Name)
	}
	if r.namespace != "" || r.allNamespaces {
		return errors.New("nodes belong to no namespace; name only the node")
	}
	name, err := r.name("node")
	if err != nil {
		return err
	}
	b.add(tool, nodeArgs{Name: name})
	return nil
}

var createConfigMapIntent = intent{
	name: "create-configmap", tools: []string{toolCreateConfigMap}, change: true,
	example: "create configmap NAME with KEY=VALUE", doc: "create a ConfigMap",
	words: []string{"create", "key", "keys", "data"},
	match: func(r *request) bool { return r.has["create"] && r.kind != nil && r.kind.Name == "configmap" },
	build: buildCreateConfigMap,
}

func buildCreateConfigMap(b *builder, r *request) error {
	if len(r.pairs) == 0 {
		return errors.New("with what data? say e.g. \"create configmap app-config with LOG_LEVEL=debug\"")
	}
	var data []configMapEntry
	for _, p := range r.pairs {
		if slices.ContainsFunc(data, func(e configMapEntry) bool { return e.Key == p.key }) {
			return fmt.Errorf("key %s is given twice", p.key)
		}
		data = append(data, configMapEntry{Key: p.key, Value: p.value})
	}
	name, err := r.name("configmap")
	if err != nil {
		return err
	}
	b.add(toolCreateConfigMap, createConfigMapArgs{Name: name, Namespace: r.namespace, Data: data})
	return nil
}

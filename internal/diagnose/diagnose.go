package diagnose

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/resolve"
)

// Time thresholds. A condition that only means something once it has lasted
// (not ready, pending, unavailable) is reported after startupGrace, so a
// rollout in progress is not a problem; explicit failures (CrashLoopBackOff,
// FailedScheduling, a missing Secret) are reported at once.
const (
	startupGrace       = 2 * time.Minute
	recentRestart      = time.Hour
	recentEvent        = 15 * time.Minute
	helmPendingGrace   = 5 * time.Minute
	defaultLogLines    = 20
	defaultLogFetches  = 30
	defaultLogParallel = 8
)

// Client limits for diagnose. A diagnosis makes about 17 list requests at
// once and up to defaultLogParallel log reads; kube.Clients' 50 QPS / 100
// burst already covers that in one burst, so these only apply when a
// kubeconfig sets lower values.
const (
	minQPS   = kube.DefaultQPS
	minBurst = kube.DefaultBurst
)

// ErrInvalidOptions marks options that fail validation (bad selector, unknown
// kind, invalid namespace). Nothing was read from the cluster.
var ErrInvalidOptions = errors.New("invalid diagnose options")

// Diagnoser diagnoses one cluster.
type Diagnoser struct {
	client kubernetes.Interface
	// meta lists objects whose names and labels are all diagnose needs
	// (Helm release records); nil only in tests that never list.
	meta    metadata.Interface
	context string
	// releases keeps Helm release payloads between diagnoses (Analyze).
	releases releaseCache
}

// New returns a Diagnoser for the cluster of c.
func New(c *kube.Clients) (*Diagnoser, error) { return NewForConfig(c.Config, c.Context) }

// NewForConfig returns a Diagnoser whose client is tuned for reading whole
// kinds at once: protobuf encoding (client-go's default for typed clients,
// pinned here: for 5,000 pods it is 40% fewer bytes and half the wall time
// of JSON, see bench/diagnose) and at least kube's default rate limits.
func NewForConfig(cfg *rest.Config, contextName string) (*Diagnoser, error) {
	rc, err := NewReadClients(cfg)
	if err != nil {
		return nil, err
	}
	return &Diagnoser{client: rc.Typed, meta: rc.Meta, context: contextName}, nil
}

// ReadClients are the clients a diagnosis reads with, over one connection
// pool, configured by ReadConfig.
type ReadClients struct {
	Config *rest.Config
	HTTP   *http.Client
	Typed  kubernetes.Interface
	Meta   metadata.Interface
}

// NewReadClients builds ReadClients for the cluster cfg points at.
func NewReadClients(cfg *rest.Config) (*ReadClients, error) {
	cfg = ReadConfig(cfg)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("build diagnose HTTP client: %w", err)
	}
	client, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("build diagnose client: %w", err)
	}
	meta, err := metadata.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("build diagnose metadata client: %w", err)
	}
	return &ReadClients{Config: cfg, HTTP: hc, Typed: client, Meta: meta}, nil
}

// ReadConfig is a copy of cfg tuned for reading whole kinds: protobuf and
// at least kube's default rate limits. Watch's informers use it too.
func ReadConfig(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS = max(cfg.QPS, minQPS)
	cfg.Burst = max(cfg.Burst, minBurst)
	return cfg
}

// NewForClient returns a Diagnoser using client and meta as they are.
func NewForClient(client kubernetes.Interface, meta metadata.Interface, contextName string) *Diagnoser {
	return &Diagnoser{client: client, meta: meta, context: contextName}
}

// Options select what a diagnosis looks at.
type Options struct {
	// Namespace to check; ignored with AllNamespaces.
	Namespace string
	// AllNamespaces checks every namespace except kube-system, kube-public
	// and kube-node-lease.
	AllNamespaces bool
	// NamespaceExplicit says Namespace was named by the user (-n), so a
	// system namespace is checked too.
	NamespaceExplicit bool
	// Selector is a label selector the reported objects must match.
	Selector string
	// Kinds limits the analyzers (names as ParseKinds takes); empty is all.
	Kinds []string
	// Name keeps only the groups about one object or workload ("backend"
	// finds deployment/todo-backend and its pods).
	Name string
	// Logs bounds the log reads.
	Logs LogOptions
	// Now is the time the diagnosis is made at (tests); zero is time.Now.
	Now time.Time
	// PageSize is how many objects one LIST request returns; 0 is
	// DefaultPageSize. A negative value reads each kind in one unpaged LIST
	// (bench/diagnose's baseline).
	PageSize int64
	// WholePods keeps every pod whole while the analyzers run; by default a
	// pod no rule reports (running, Ready, not restarted lately) is kept as
	// a compact record, so that memory grows with the pods that have
	// problems rather than with the cluster (bench/diagnose's baseline).
	WholePods bool
	// Unfolded keeps one finding per object: findings of one group with the
	// same rule are not folded into one with Similar names (watch compares
	// findings object by object).
	Unfolded bool
}

// LogOptions bound the log reads of a diagnosis.
type LogOptions struct {
	// Disabled reads no logs at all.
	Disabled bool
	// MaxFetches is how many logs are read at most (default 30), most severe
	// groups first.
	MaxFetches int
	// Concurrency is how many are read at once (default 8).
	Concurrency int
	// Lines is how many last lines each keeps (default 20).
	Lines int
}

func (o LogOptions) withDefaults() LogOptions {
	if o.MaxFetches <= 0 {
		o.MaxFetches = defaultLogFetches
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultLogParallel
	}
	if o.Lines <= 0 {
		o.Lines = defaultLogLines
	}
	return o
}

// plan is validated options.
type plan struct {
	// now is the time the diagnosis is made at: Options.Now, or when it
	// was planned.
	now       time.Time
	scope     scope
	analyzers []Analyzer
	kinds     []string
	need      []Resource
}

func (o Options) plan() (plan, error) {
	p := plan{now: nowOr(o.Now)}
	p.scope.pageSize = o.PageSize
	p.scope.wholePods = o.WholePods
	if !o.AllNamespaces {
		if o.Namespace == "" {
			return p, fmt.Errorf("%w: a namespace is required unless all namespaces are checked", ErrInvalidOptions)
		}
		if err := resolve.CheckNamespace(o.Namespace); err != nil {
			return p, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
		}
		p.scope.namespace = o.Namespace
		p.scope.includeSystem = o.NamespaceExplicit
	}
	if strings.TrimSpace(o.Selector) != "" {
		sel, err := labels.Parse(o.Selector)
		if err != nil {
			return p, fmt.Errorf("%w: selector %q: %v", ErrInvalidOptions, o.Selector, err)
		}
		p.scope.selector = sel
	}
	kinds, err := ParseKinds(o.Kinds)
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
	}
	p.kinds = kinds
	p.analyzers = selectAnalyzers(kinds)
	seen := map[Resource]bool{}
	for _, a := range p.analyzers {
		for _, r := range a.Needs() {
			if !seen[r] {
				seen[r] = true
				p.need = append(p.need, r)
			}
		}
	}
	return p, nil
}

// Diagnose runs the selected analyzers over one scope. It fails only when
// the cluster cannot be read at all; lists refused by RBAC are reported in
// Report.Errors (or Skipped) and their checks left out.
func (d *Diagnoser) Diagnose(ctx context.Context, o Options) (*Report, error) {
	start := time.Now()
	p, err := o.plan()
	if err != nil {
		return nil, err
	}
	s, failures, err := collect(ctx, d, p)
	if err != nil {
		return nil, err
	}
	return d.report(ctx, o, p, s, failures, start), nil
}

// report runs the analyzers of p over s and builds the report: grouped,
// with logs attached unless disabled, redacted, summarised.
func (d *Diagnoser) report(ctx context.Context, o Options, p plan, s *Snapshot, failures []listFailure, start time.Time) *Report {
	now := s.Now
	rep := &Report{
		APIVersion: APIVersion, Kind: KindDiagnoseReport,
		Metadata: ReportMeta{GeneratedAt: now.UTC().Truncate(time.Second), Context: d.context, Scope: ScopeInfo{
			Namespace: p.scope.namespace, AllNamespaces: o.AllNamespaces, Selector: o.Selector, Name: o.Name, Kinds: p.kinds,
		}},
		Summary: Summary{Checked: map[string]int{}},
	}
	failed := map[Resource]bool{}
	for _, f := range failures {
		failed[f.res] = true
		ce := CheckError{Resource: string(f.res), Message: f.err.Error()}
		if f.res.clusterScoped() && p.scope.namespace != "" {
			rep.Skipped = append(rep.Skipped, ce)
		} else {
			rep.Errors = append(rep.Errors, ce)
		}
	}
	var findings []Finding
	for _, a := range p.analyzers {
		if missing := hardMissing(a, failed); missing != "" {
			continue // its list failed and is reported above
		}
		res := a.Analyze(s)
		rep.Summary.Checked[a.Kind()] += res.Checked
		findings = append(findings, res.Findings...)
	}
	rep.Groups = groupFindings(findings, !o.Unfolded)
	if o.Name != "" {
		rep.Groups = filterGroups(rep.Groups, o.Name)
	}
	if !o.Logs.Disabled {
		lo := o.Logs.withDefaults()
		attachLogs(ctx, d.client, s.redactor, groupLogRequests(rep.Groups, lo.MaxFetches), lo)
	}
	for gi := range rep.Groups {
		for fi := range rep.Groups[gi].Findings {
			redactFinding(s.redactor, &rep.Groups[gi].Findings[fi])
		}
	}
	rep.summarize()
	rep.Metadata.DurationMillis = time.Since(start).Milliseconds()
	return rep
}

// softNeeds are lists an analyzer can do without: owner chains end early,
// events and logs are left out, and missing-reference checks stay silent
// when Secrets or ConfigMaps could not be read.
var softNeeds = map[Resource]bool{
	ResEvents: true, ResSecrets: true, ResConfigMaps: true, ResNodes: true,
	ResReplicaSets: true, ResDeployments: true, ResStatefulSets: true, ResDaemonSets: true, ResJobs: true, ResCronJobs: true,
}

// ownResource is the list an analyzer's own kind comes from.
var ownResource = map[string]Resource{
	"Pod": ResPods, "Deployment": ResDeployments, "ReplicaSet": ResReplicaSets, "StatefulSet": ResStatefulSets,
	"DaemonSet": ResDaemonSets, "Job": ResJobs, "CronJob": ResCronJobs, "Service": ResServices, "Ingress": ResIngresses,
	"PersistentVolumeClaim": ResPVCs, "Node": ResNodes, "HorizontalPodAutoscaler": ResHPAs, "HelmRelease": ResSecrets,
}

// hardMissing names a list a cannot run without that failed, or "".
func hardMissing(a Analyzer, failed map[Resource]bool) string {
	if own := ownResource[a.Kind()]; failed[own] {
		return string(own)
	}
	for _, r := range a.Needs() {
		if failed[r] && !softNeeds[r] {
			return string(r)
		}
	}
	return ""
}

// groupFindings puts findings under their top-level owner, folds findings of
// one group with the same rule and merge key into one (when fold is set), and
// sorts: most severe group first, then by namespace, kind and name.
func groupFindings(findings []Finding, fold bool) []Group {
	type key struct{ kind, ns, name string }
	idx := map[key]int{}
	var groups []Group
	for _, f := range findings {
		top := f.Object
		if n := len(f.Owners); n > 0 {
			top = f.Owners[n-1]
		}
		k := key{top.Kind, top.Namespace, top.Name}
		i, ok := idx[k]
		if !ok {
			i = len(groups)
			idx[k] = i
			groups = append(groups, Group{Object: top})
		}
		groups[i].Findings = append(groups[i].Findings, f)
	}
	for gi := range groups {
		g := &groups[gi]
		slices.SortFunc(g.Findings, func(a, b Finding) int {
			return cmp.Or(
				cmp.Compare(a.Severity.rank(), b.Severity.rank()),
				cmp.Compare(len(a.Owners), len(b.Owners)), // the workload before its pods
				cmp.Compare(a.Rule, b.Rule),
				cmp.Compare(a.Object.Kind, b.Object.Kind),
				cmp.Compare(a.Object.Name, b.Object.Name),
			)
		})
		if fold {
			g.Findings = foldFindings(g.Findings)
		}
		g.Severity = Warning
		for _, f := range g.Findings {
			if f.Severity == Critical {
				g.Severity = Critical
			}
		}
	}
	slices.SortFunc(groups, func(a, b Group) int {
		return cmp.Or(
			cmp.Compare(a.Severity.rank(), b.Severity.rank()),
			cmp.Compare(a.Object.Namespace, b.Object.Namespace),
			cmp.Compare(a.Object.Kind, b.Object.Kind),
			cmp.Compare(a.Object.Name, b.Object.Name),
		)
	})
	return groups
}

// foldFindings merges findings with the same rule, kind and merge key (three
// pods of one Deployment in CrashLoopBackOff) into the first one.
func foldFindings(fs []Finding) []Finding {
	type key struct{ rule, kind, merge string }
	first := map[key]int{}
	var out []Finding
	for _, f := range fs {
		if f.mergeKey == "" {
			out = append(out, f)
			continue
		}
		k := key{f.Rule, f.Object.Kind, f.mergeKey}
		if i, ok := first[k]; ok {
			out[i].Similar = append(out[i].Similar, f.Object.Name)
			continue
		}
		first[k] = len(out)
		out = append(out, f)
	}
	return out
}

// filterGroups keeps the groups about name: its group object or one of its
// findings' objects is called name, or name is a dash-separated part of it
// ("backend" for "todo-backend").
func filterGroups(groups []Group, name string) []Group {
	name = strings.ToLower(strings.TrimSpace(name))
	if _, n, ok := strings.Cut(name, "/"); ok {
		name = n
	}
	return slices.DeleteFunc(groups, func(g Group) bool {
		if nameMatches(name, g.Object.Name) {
			return false
		}
		return !slices.ContainsFunc(g.Findings, func(f Finding) bool { return nameMatches(name, f.Object.Name) })
	})
}

func nameMatches(query, name string) bool {
	return name == query || resolve.Matches(query, resolve.Candidate{Name: name})
}

func (r *Report) summarize() {
	s := &r.Summary
	s.Groups = len(r.Groups)
	s.Critical, s.Warning, s.Findings = 0, 0, 0
	for _, g := range r.Groups {
		for _, f := range g.Findings {
			s.Findings++
			if f.Severity == Critical {
				s.Critical++
			} else {
				s.Warning++
			}
		}
	}
	s.Healthy = s.Findings == 0 && len(r.Errors) == 0
}

// Problems reports whether the diagnosis found anything.
func (r *Report) Problems() bool { return r.Summary.Findings > 0 }

// Cap keeps at most n findings (most severe groups first) and counts the
// rest in Summary.Omitted, for callers with a size budget (agent tools).
func (r *Report) Cap(n int) {
	kept := 0
	for gi := range r.Groups {
		g := &r.Groups[gi]
		room := n - kept
		if room <= 0 {
			r.Summary.Omitted += len(g.Findings)
			g.Findings = nil
			continue
		}
		if len(g.Findings) > room {
			r.Summary.Omitted += len(g.Findings) - room
			g.Findings = g.Findings[:room]
		}
		kept += len(g.Findings)
	}
	r.Groups = slices.DeleteFunc(r.Groups, func(g Group) bool { return len(g.Findings) == 0 })
}

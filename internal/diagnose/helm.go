package diagnose

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Helm release rules.
const (
	RuleHelmReleaseFailed  = "HelmReleaseFailed"
	RuleHelmReleasePending = "HelmReleasePending"
)

// Helm's Secret storage driver: one Secret per release revision, of this
// type, labelled owner=helm, name, status and version.
const helmReleaseType corev1.SecretType = "helm.sh/release.v1"

// maxReleaseBytes bounds a decoded release (the chart and manifest are in it).
const maxReleaseBytes = 32 << 20

// helmNeedsRelease reports whether a release Secret's body is worth keeping:
// only revisions in a state diagnose reports on are decoded.
func helmNeedsRelease(l map[string]string) bool {
	st := l["status"]
	return l["owner"] == "helm" && (st == "failed" || strings.HasPrefix(st, "pending-"))
}

type helmAnalyzer struct{}

var _ Analyzer = helmAnalyzer{}

func (helmAnalyzer) Kind() string      { return "HelmRelease" }
func (helmAnalyzer) Needs() []Resource { return []Resource{ResSecrets} }

// helmRevision is one release revision, from its Secret's labels.
type helmRevision struct {
	info    *secretInfo
	version int
	status  string
}

func (helmAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	latest, all := s.helmReleases()
	r.Checked = len(latest)
	for k, rev := range latest {
		if f, ok := checkRelease(s, k, rev, all[k]); ok {
			r.Findings = append(r.Findings, f)
		}
	}
	return r
}

// helmReleases groups the snapshot's Helm release records that are in
// scope by release: the latest revision of each, and all of them.
func (s *Snapshot) helmReleases() (latest map[nsName]helmRevision, all map[nsName][]helmRevision) {
	latest, all = map[nsName]helmRevision{}, map[nsName][]helmRevision{}
	for _, info := range s.secrets {
		l := info.meta.Labels
		if info.typ != helmReleaseType || l["owner"] != "helm" || l["name"] == "" || !s.inScope(&info.meta) {
			continue
		}
		v, err := strconv.Atoi(l["version"])
		if err != nil {
			continue
		}
		k := nsName{info.meta.Namespace, l["name"]}
		rev := helmRevision{info: info, version: v, status: l["status"]}
		all[k] = append(all[k], rev)
		if cur, ok := latest[k]; !ok || v > cur.version {
			latest[k] = rev
		}
	}
	return latest, all
}

func checkRelease(s *Snapshot, k nsName, rev helmRevision, revs []helmRevision) (Finding, bool) {
	failed := rev.status == "failed"
	if !failed && !strings.HasPrefix(rev.status, "pending-") {
		return Finding{}, false
	}
	age := s.Now.Sub(rev.info.meta.CreationTimestamp.Time)
	if !failed && age < helmPendingGrace {
		return Finding{}, false // an install or upgrade in progress
	}
	good := 0
	for _, r := range revs {
		if r.version < rev.version && (r.status == "deployed" || r.status == "superseded") && r.version > good {
			good = r.version
		}
	}
	ref := ObjectRef{Kind: "HelmRelease", Namespace: k.ns, Name: k.name}
	f := Finding{Object: ref, Severity: Critical, Rule: RuleHelmReleaseFailed}
	f.Evidence.Status = []string{fmt.Sprintf("revision %d: status %s (since %s)", rev.version, rev.status, duration.HumanDuration(age))}
	desc := ""
	if d, err := decodeRelease(rev.info.release); err == nil {
		desc = trimLine(d.Info.Description)
		if d.Chart.Metadata.Name != "" {
			f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("chart: %s-%s (app version %s)", d.Chart.Metadata.Name, d.Chart.Metadata.Version, cmp.Or(d.Chart.Metadata.AppVersion, "unset")))
		}
		if desc != "" {
			f.Evidence.Status = append(f.Evidence.Status, "description: "+desc)
		}
	}
	if good > 0 {
		f.Evidence.Status = append(f.Evidence.Status, fmt.Sprintf("last good revision: %d", good))
	}
	history := Fix{Description: "See the release history", Command: shellf("helm history %s -n %s", k.name, k.ns)}
	if failed {
		f.Summary = fmt.Sprintf("revision %d failed", rev.version)
		if desc != "" {
			f.Summary += ": " + desc
		}
		f.Cause = "Helm's last install or upgrade of this release failed: some of its objects were refused or did not become ready in time (the description says which). The release may be half applied."
	} else {
		f.Severity = Warning
		f.Rule = RuleHelmReleasePending
		f.Summary = fmt.Sprintf("revision %d has been %s for %s", rev.version, rev.status, duration.HumanDuration(age))
		f.Cause = "Helm recorded the start of an operation but never its end: the helm process was interrupted (Ctrl-C, CI timeout, lost connection). Until it is resolved every new upgrade fails with \"another operation is in progress\"."
	}
	switch {
	case good > 0:
		f.Fixes = []Fix{
			{Description: fmt.Sprintf("Roll back to revision %d, the last one that deployed", good), Command: shellf("helm rollback %s %d -n %s", k.name, good, k.ns)},
			{Description: "or ask opsagent to do it (previewed, needs approval)", Command: agentCommand(fmt.Sprintf("roll back release %s in %s", k.name, k.ns))},
			history,
		}
	default:
		f.Fixes = []Fix{
			history,
			{Description: "No revision ever deployed: uninstall and install again once the cause is fixed", Command: shellf("helm uninstall %s -n %s", k.name, k.ns)},
		}
	}
	return f, true
}

// helmRelease is the part of a Helm release record diagnose reads; the
// values and manifests in it are never decoded.
type helmReleaseRecord struct {
	Info struct {
		Status      string `json:"status"`
		Description string `json:"description"`
	} `json:"info"`
	Chart struct {
		Metadata struct {
			Name       string `json:"name"`
			Version    string `json:"version"`
			AppVersion string `json:"appVersion"`
		} `json:"metadata"`
	} `json:"chart"`
}

// decodeRelease decodes Helm's storage format: base64 of (usually gzipped)
// JSON.
func decodeRelease(data []byte) (*helmReleaseRecord, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("no release data")
	}
	raw, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return nil, fmt.Errorf("decode release: %w", err)
	}
	if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("decompress release: %w", err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, maxReleaseBytes))
		_ = zr.Close() // reading from memory: nothing to release
		if err != nil {
			return nil, fmt.Errorf("decompress release: %w", err)
		}
	}
	var rec helmReleaseRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("parse release: %w", err)
	}
	return &rec, nil
}

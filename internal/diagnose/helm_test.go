package diagnose

import (
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// TestHelmAnalyzer writes release records with Helm's own Secret storage
// driver, then checks that only releases whose latest revision failed or is
// stuck pending are reported.
func TestHelmAnalyzer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	store := driver.NewSecrets(e.Client.CoreV1().Secrets(e.Namespace))
	put := func(name string, version int, status release.Status, desc string) {
		t.Helper()
		rel := &release.Release{
			Name: name, Namespace: e.Namespace, Version: version,
			Info:   &release.Info{Status: status, Description: desc},
			Chart:  &chart.Chart{Metadata: &chart.Metadata{Name: name, Version: "1.2.3", AppVersion: "2.0"}},
			Config: map[string]any{"password": "hunter2-very-secret"},
		}
		if err := store.Create(strings.Join([]string{"sh.helm.release.v1", name, "v" + string(rune('0'+version))}, "."), rel); err != nil {
			t.Fatalf("store release %s v%d: %v", name, version, err)
		}
	}
	put("web", 1, release.StatusSuperseded, "Install complete")
	put("web", 2, release.StatusFailed, `Upgrade "web" failed: context deadline exceeded`)
	put("api", 1, release.StatusFailed, "Install failed")
	put("api", 2, release.StatusDeployed, "Upgrade complete")
	put("stuck", 1, release.StatusDeployed, "Install complete")
	put("stuck", 2, release.StatusPendingUpgrade, "Preparing upgrade")
	put("fresh", 1, release.StatusFailed, `Install failed: image pull timed out`)

	tests := []struct {
		name     string
		now      time.Time
		release  string
		rule     string // "" means not reported
		severity Severity
		want     []string
		wantFix  string
	}{
		{name: "failed upgrade rolls back to the last good revision", release: "web", rule: RuleHelmReleaseFailed, severity: Critical,
			want: []string{"revision 2 failed", "context deadline exceeded", "chart: web-1.2.3", "last good revision: 1"}, wantFix: "helm rollback web 1 -n "},
		{name: "old failure followed by a deployed revision is history", release: "api"},
		{name: "pending upgrade in progress is not a problem", release: "stuck"},
		{name: "pending upgrade long after is stuck", now: time.Now().Add(time.Hour), release: "stuck", rule: RuleHelmReleasePending, severity: Warning,
			want: []string{"revision 2 has been pending-upgrade", "another operation is in progress"}, wantFix: "helm rollback stuck 1 -n "},
		{name: "failed install without a good revision", release: "fresh", rule: RuleHelmReleaseFailed, severity: Critical,
			want: []string{"image pull timed out"}, wantFix: "helm uninstall fresh -n "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := e.diagnose(t, Options{Kinds: []string{"HelmRelease"}, Now: tc.now})
			if rep.Summary.Checked["HelmRelease"] != 4 {
				t.Errorf("checked %d releases, want 4", rep.Summary.Checked["HelmRelease"])
			}
			if strings.Contains(reportText(rep), "hunter2") {
				t.Errorf("a release value leaked into the report")
			}
			f, ok := findingFor(rep, tc.rule, tc.release)
			if tc.rule == "" {
				for _, g := range rep.Groups {
					if g.Object.Name == tc.release {
						t.Fatalf("release %s reported:\n%s", tc.release, reportText(rep))
					}
				}
				return
			}
			if !ok {
				t.Fatalf("no %s for %s:\n%s", tc.rule, tc.release, reportText(rep))
			}
			if f.Severity != tc.severity || f.Object.Kind != "HelmRelease" {
				t.Errorf("finding %+v, want severity %s on a HelmRelease", f, tc.severity)
			}
			mustContain(t, "finding", allText(f), tc.want...)
			if !hasFix(f, tc.wantFix) {
				t.Errorf("no fix with %q: %+v", tc.wantFix, f.Fixes)
			}
		})
	}
}

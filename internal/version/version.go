// Package version describes the running build: the release version, commit
// and build date stamped by `make release` (hack/release.sh) with
//
//	-ldflags "-X github.com/opsagent/opsagent/internal/version.Version=...
//	          -X github.com/opsagent/opsagent/internal/version.Commit=...
//	          -X github.com/opsagent/opsagent/internal/version.Date=..."
//
// plus what the Go toolchain records in every binary (its own version and the
// versions of the Kubernetes and Helm libraries linked in).
package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Stamped at link time; the zero values mean an unstamped build (go build,
// go install), for which Get falls back to the toolchain's build info.
var (
	// Version is the release version; "dev" for unstamped builds.
	Version = "dev"
	// Commit is the full git commit the release was built from.
	Commit = ""
	// Date is the build date in RFC 3339, UTC. Releases use the commit's
	// time rather than the clock so that rebuilding a commit gives the same bytes.
	Date = ""
)

// Library modules whose versions decide what opsagent can talk to.
const (
	clientGoModule = "k8s.io/client-go"
	helmModule     = "helm.sh/helm/v3"
)

// Info is what `opsagent version -o json` prints.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	BuildDate string `json:"buildDate,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
	// ClientGo and Helm are the module versions linked in (k8s.io/client-go
	// v0.X.Y speaks to Kubernetes v1.X.Y).
	ClientGo string `json:"clientGo,omitempty"`
	Helm     string `json:"helm,omitempty"`
}

// Get describes the running binary.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi, Version, Commit, Date)
}

// fromBuildInfo merges the stamped values with the toolchain's build info;
// bi may be nil (a binary built without module support).
func fromBuildInfo(bi *debug.BuildInfo, version, commit, date string) Info {
	info := Info{
		Version:   version,
		Commit:    commit,
		BuildDate: date,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi == nil {
		return info
	}
	// `go install github.com/opsagent/opsagent/cmd/opsagent@v1.2.3` records the
	// module version; a checkout build records "(devel)".
	if info.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && info.Commit == "":
			info.Commit = s.Value
		case s.Key == "vcs.time" && info.BuildDate == "":
			info.BuildDate = s.Value
		}
	}
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		switch d.Path {
		case clientGoModule:
			info.ClientGo = m.Version
		case helmModule:
			info.Helm = m.Version
		}
	}
	return info
}

// String is the one-line form used by `opsagent --version`:
// the version, then the short commit and the build date when known.
func String() string { return Get().String() }

// String formats i on one line.
func (i Info) String() string {
	var extra []string
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		extra = append(extra, c)
	}
	if i.BuildDate != "" {
		extra = append(extra, i.BuildDate)
	}
	if len(extra) == 0 {
		return i.Version
	}
	return i.Version + " (" + strings.Join(extra, ", ") + ")"
}

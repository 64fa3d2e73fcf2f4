package version

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	t.Parallel()
	deps := []*debug.Module{
		{Path: "k8s.io/client-go", Version: "v0.37.2"},
		{Path: "helm.sh/helm/v3", Version: "v3.22.0", Replace: &debug.Module{Path: "example.com/helm-fork", Version: "v3.22.1-fork"}},
		{Path: "k8s.io/api", Version: "v0.37.2"},
	}
	tests := []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  Info
	}{
		{
			name:    "release stamp wins over vcs settings",
			bi:      &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Deps: deps, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "ffff"}, {Key: "vcs.time", Value: "2000-01-01T00:00:00Z"}}},
			version: "v1.2.3", commit: "0123456789abcdef", date: "2026-12-01T10:00:00Z",
			want: Info{Version: "v1.2.3", Commit: "0123456789abcdef", BuildDate: "2026-12-01T10:00:00Z", ClientGo: "v0.37.2", Helm: "v3.22.1-fork"},
		},
		{
			name:    "go install of a tagged module",
			bi:      &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}, Deps: deps},
			version: "dev",
			want:    Info{Version: "v0.4.0", ClientGo: "v0.37.2", Helm: "v3.22.1-fork"},
		},
		{
			name:    "checkout build with vcs stamping",
			bi:      &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.time", Value: "2026-11-30T08:00:00Z"}}},
			version: "dev",
			want:    Info{Version: "dev", Commit: "abc", BuildDate: "2026-11-30T08:00:00Z"},
		},
		{
			name:    "no build info",
			version: "dev",
			want:    Info{Version: "dev"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.want.GoVersion = runtime.Version()
			tt.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if got := fromBuildInfo(tt.bi, tt.version, tt.commit, tt.date); got != tt.want {
				t.Errorf("fromBuildInfo() =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestInfoString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Info
		want string
	}{
		{"bare", Info{Version: "dev"}, "dev"},
		{"stamped", Info{Version: "v1.0.0", Commit: "0123456789abcdef0123", BuildDate: "2026-12-01T10:00:00Z"}, "v1.0.0 (0123456789ab, 2026-12-01T10:00:00Z)"},
		{"short commit", Info{Version: "dev", Commit: "abc"}, "dev (abc)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// Package version holds the build's version, stamped by the Makefile with
// -ldflags "-X github.com/opsagent/opsagent/internal/version.Version=...".
package version

import "runtime/debug"

// Version is the release version; "dev" for unstamped builds.
var Version = "dev"

// String returns the version plus the VCS revision when the toolchain recorded one.
func String() string {
	v := Version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

package cli

import (
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/release"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/tools/releasetools"
)

// Release descriptions and chart notes are written by whoever deployed the
// chart: the status and history text prints them without their control
// characters.
func TestPrintRecordStripsControlCharacters(t *testing.T) {
	t.Parallel()
	hostile := release.Release{Name: "todo", Namespace: "todo", Revision: 2, Status: "failed",
		Description: "Upgrade failed\x1b]0;pwned\x07\x1b[2J"}
	tests := []struct {
		name   string
		result any
		want   string
	}{
		{"status", &release.Status{Release: hostile, Notes: "visit \x1b[8mhidden\x1b[0m http://x"}, "DESCRIPTION: Upgrade failed]0;pwned[2J"},
		{"history", &releasetools.HistoryResult{Release: "todo", Namespace: "todo", Revisions: []release.Release{hostile}}, "Upgrade failed]0;pwned[2J"},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := printRecord(&b, &tools.Record{Tool: "helm_" + tt.name, Result: tt.result}); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(b.String(), "\x1b\x07") {
			t.Errorf("%s: the text passes control characters to the terminal: %q", tt.name, b.String())
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s: text lacks %q:\n%s", tt.name, tt.want, b.String())
		}
	}
}

package cli

import (
	"encoding/json"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/version"
)

// requiredVersion reads module's version from the repository's go.mod, the
// versions `opsagent version` must report as linked in.
func requiredVersion(t *testing.T, module string) string {
	t.Helper()
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("go.mod does not require %s", module)
	}
	return string(m[1])
}

// stampVersion sets the link-time variables as hack/release.sh does; not
// parallel-safe, like t.Setenv.
func stampVersion(t *testing.T, v, commit, date string) {
	t.Helper()
	oldV, oldC, oldD := version.Version, version.Commit, version.Date
	version.Version, version.Commit, version.Date = v, commit, date
	t.Cleanup(func() { version.Version, version.Commit, version.Date = oldV, oldC, oldD })
}

func TestVersionJSON(t *testing.T) {
	stampVersion(t, "v1.2.3", "0123456789abcdef0123456789abcdef01234567", "2026-12-01T10:00:00Z")
	r := runCLI(t, "", "version", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
	}
	got := decodeVersion(t, r.stdout)
	// A test binary records no module dependencies, so the library versions
	// are checked on a real build in TestBuiltBinary.
	want := version.Info{
		Version:   "v1.2.3",
		Commit:    "0123456789abcdef0123456789abcdef01234567",
		BuildDate: "2026-12-01T10:00:00Z",
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		ClientGo:  got.ClientGo,
		Helm:      got.Helm,
	}
	if got != want {
		t.Errorf("version -o json =\n %#v\nwant\n %#v", got, want)
	}

	// The text form and --version carry the same facts.
	text := runCLI(t, "", "version")
	for _, s := range []string{"v1.2.3", want.Commit, want.BuildDate, want.GoVersion} {
		if !strings.Contains(text.stdout, s) {
			t.Errorf("`opsagent version` output lacks %q:\n%s", s, text.stdout)
		}
	}
	if flag := runAs(t, "opsagent", "--version"); !strings.Contains(flag.stdout, "v1.2.3 (0123456789ab, 2026-12-01T10:00:00Z)") {
		t.Errorf("`opsagent --version` = %q", flag.stdout)
	}
}

// decodeVersion decodes `version -o json` strictly: no field may be unknown.
func decodeVersion(t *testing.T, out string) version.Info {
	t.Helper()
	var got version.Info
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return got
}

func TestVersionBadOutput(t *testing.T) {
	if r := runCLI(t, "", "version", "-o", "yaml"); r.code != ExitBadInput {
		t.Errorf("version -o yaml: exit %d, want %d (stderr %q)", r.code, ExitBadInput, r.stderr)
	}
}

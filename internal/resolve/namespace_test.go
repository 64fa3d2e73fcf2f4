package resolve_test

import (
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/resolve"
)

func TestCheckNamespace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ns      string
		wantErr string
	}{
		{name: "empty is the current namespace", ns: ""},
		{name: "valid", ns: "todo"},
		{name: "digits and dashes", ns: "team-1"},
		{name: "63 characters", ns: strings.Repeat("a", 63)},
		{name: "upper case", ns: "Todo", wantErr: `namespace "Todo" is not a valid namespace name: a lowercase RFC 1123 label`},
		{name: "underscore", ns: "bad_ns", wantErr: "is not a valid namespace name"},
		{name: "a path", ns: "../kube-system", wantErr: "is not a valid namespace name"},
		{name: "too long", ns: strings.Repeat("a", 64), wantErr: "no more than 63 characters"},
		{name: "control characters are quoted", ns: "a\x1b[2Jb", wantErr: `namespace "a\x1b[2Jb"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := resolve.CheckNamespace(tt.ns)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("CheckNamespace(%q) = %v, want nil", tt.ns, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckNamespace(%q) = %v, want an error containing %q", tt.ns, err, tt.wantErr)
			}
		})
	}
}

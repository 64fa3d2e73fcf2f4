package server

import (
	"testing"

	"github.com/opsagent/opsagent/internal/resolve"
)

// TestSubmitNamespaceIsTheSharedCheck: a request's namespace is refused
// exactly as the tools refuse it (resolve.CheckNamespace), so the HTTP
// surface cannot drift from the CLI's and the model's.
func TestSubmitNamespaceIsTheSharedCheck(t *testing.T) {
	t.Parallel()
	for _, ns := range []string{"", "todo", "Bad_NS", "../kube-system"} {
		in := submitInput{Text: "scale backend to 3", Namespace: ns}
		got, want := in.validate(), resolve.CheckNamespace(ns)
		if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
			t.Errorf("validate() with namespace %q = %v, want %v", ns, got, want)
		}
	}
}

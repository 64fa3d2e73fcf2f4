package resolve

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// CheckNamespace accepts "" (the caller's current namespace) or a valid
// namespace name: a lowercase RFC 1123 label of at most 63 characters. It
// is the one namespace-name check: the tools (kubetools.CheckNamespace),
// usagetools, the HTTP server and diagnose all call it, so a namespace is
// accepted or refused alike whichever way a request comes in.
func CheckNamespace(ns string) error {
	if ns == "" {
		return nil
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return fmt.Errorf("namespace %q is not a valid namespace name: %s", ns, strings.Join(errs, "; "))
	}
	return nil
}

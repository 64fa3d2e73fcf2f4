package kubetools

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/opsagent/opsagent/internal/resolve"
)

// Limits shared by several tools. They keep one call's cost and output small
// whatever a model asks for.
const (
	defaultListLimit      = 50
	maxListLimit          = 500
	defaultTimeoutSeconds = 120
	MaxTimeoutSeconds     = 1800
	maxNameLen            = 253
)

// CheckName rejects an empty or oversized name. Names are not checked against
// DNS rules: people write "todo backend" and the resolver copes with it.
func CheckName(field, v string) error {
	switch v = strings.TrimSpace(v); {
	case v == "":
		return fmt.Errorf("%s is required", field)
	case len(v) > maxNameLen:
		return fmt.Errorf("%s is %d characters, more than the %d a Kubernetes name can have", field, len(v), maxNameLen)
	}
	return nil
}

// CheckNamespace accepts "" (the current namespace) or a valid namespace
// name. It is resolve.CheckNamespace, the one check every surface shares,
// under the name the tool packages' Validate methods use.
func CheckNamespace(ns string) error { return resolve.CheckNamespace(ns) }

// CheckRange rejects v outside [lo, hi], naming the argument.
func CheckRange(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s must be between %d and %d, got %d", field, lo, hi, v)
	}
	return nil
}

// TimeoutFor turns an optional timeout_seconds into a duration.
func TimeoutFor(seconds int) time.Duration {
	return time.Duration(cmp.Or(seconds, defaultTimeoutSeconds)) * time.Second
}

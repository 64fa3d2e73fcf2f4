package release

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// Sentinel errors callers can tell apart with errors.Is. Every error this
// package returns is an *Error wrapping one of these (when the cause is
// known) and the underlying Helm or Kubernetes error.
var (
	// ErrReleaseNotFound: no release of that name in the namespace.
	ErrReleaseNotFound = errors.New("release not found")
	// ErrRevisionNotFound: the release has no such revision to roll back to.
	ErrRevisionNotFound = errors.New("revision not found")
	// ErrOperationInProgress: another install, upgrade or rollback holds the
	// release (or one was interrupted and left it pending).
	ErrOperationInProgress = errors.New("another operation is in progress on the release")
	// ErrInvalidValues: the values could not be read or the chart rejected them.
	ErrInvalidValues = errors.New("invalid values")
	// ErrClusterUnreachable: the Kubernetes API could not be reached.
	ErrClusterUnreachable = errors.New("kubernetes cluster unreachable")
	// ErrTimeout: the resources did not become ready within the timeout.
	ErrTimeout = errors.New("timed out waiting for the release to become ready")
	// ErrResourceConflict: an object the chart creates already exists and
	// belongs to someone else.
	ErrResourceConflict = errors.New("object already exists outside the release")
	// ErrInterrupted: the operation was cancelled part-way (Ctrl-C); the
	// release may be left failed or pending, with some objects changed.
	ErrInterrupted = errors.New("interrupted before it finished")
	// ErrRolledBack: an atomic upgrade failed and Helm rolled the release
	// back (or, for a first install, removed it again).
	ErrRolledBack = errors.New("release failed and was rolled back")
)

// Next steps suggested to users. Kept together so they read consistently.
const (
	hintInstall      = "install it first with `opsagent install`, or " + hintWhichRelease
	hintHistory      = "list the revisions with `opsagent history`"
	hintPending      = "wait for the other operation to finish; if it was interrupted, `opsagent rollback` restores the last good revision"
	hintValues       = "fix the values named above (charts/todo-chatbot/README.md lists every value) and try again"
	hintCluster      = "check that the cluster runs and that --kubeconfig/--context point at it (`kubectl cluster-info`)"
	hintTimeout      = "inspect the pods (`kubectl get pods`, `opsagent status`), raise --timeout if they were still starting, or `opsagent rollback`"
	hintConflict     = "delete the object, or install under another release name or namespace"
	hintRolledBack   = "the previous revision is live again; inspect why the new one failed (`kubectl get pods`, events), fix it and deploy again"
	hintUninstalled  = "nothing is left running; inspect why the install failed (`kubectl get events`), fix it and install again"
	hintIncompatible = "use a cluster of a supported version (the chart's kubeVersion)"
	hintInterrupted  = "see where the release stands with `opsagent status` and `opsagent history`, then deploy again or `opsagent rollback` to settle it"
	hintWhichRelease = "check the release name and namespace (`kubectl get secrets -A -l owner=helm` lists every release)"
	hintNamespace    = "create the namespace first (`kubectl create namespace <name>`) or deploy with --create-namespace"
)

// Error is a failed release operation: what failed (Op on Release in
// Namespace), why (Err, classified by Kind) and what to do next (Hint).
type Error struct {
	Op        string
	Release   string
	Namespace string
	// Kind is one of the package's sentinel errors, or nil when the cause
	// fits none of them.
	Kind error
	// Err is the underlying error.
	Err error
	// Hint is the suggested next step; may be empty.
	Hint string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Release == "" {
		fmt.Fprintf(&b, "%s releases in namespace %q", e.Op, e.Namespace)
	} else {
		fmt.Fprintf(&b, "%s release %q in namespace %q", e.Op, e.Release, e.Namespace)
	}
	if e.Kind != nil {
		fmt.Fprintf(&b, ": %v", e.Kind)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, " (next: %s)", e.Hint)
	}
	return b.String()
}

// Unwrap exposes both the sentinel and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// fail wraps err from operation op into an *Error, classifying it.
func (c *Client) fail(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	cl := classify(err)
	return &Error{Op: op, Release: name, Namespace: c.namespace, Kind: cl.kind, Err: err, Hint: cl.hint}
}

// failKind wraps err with a known sentinel and hint.
func (c *Client) failKind(op, name string, kind error, err error, hint string) error {
	return &Error{Op: op, Release: name, Namespace: c.namespace, Kind: kind, Err: err, Hint: hint}
}

// classification is a sentinel (or nil) and the hint that goes with it.
type classification struct {
	kind error
	hint string
}

// classify maps Helm's errors to a sentinel and a hint. Helm v3 returns few
// typed errors, so several cases match on the messages of helm.sh/helm/v3
// v3.22 (pkg/action, pkg/kube); the tests pin them.
func classify(err error) classification {
	msg := err.Error()
	var schemaErr chartutil.JSONSchemaValidationError
	switch {
	// First: the message goes on with the cause, which matches cases below.
	case strings.Contains(msg, "has been uninstalled due to atomic being set"):
		return classification{ErrRolledBack, hintUninstalled}
	case strings.Contains(msg, "has been rolled back due to atomic being set"):
		return classification{ErrRolledBack, hintRolledBack}
	case errors.Is(err, driver.ErrReleaseNotFound), errors.Is(err, driver.ErrNoDeployedReleases),
		strings.Contains(msg, "has no deployed releases"):
		return classification{ErrReleaseNotFound, hintInstall}
	case strings.Contains(msg, "another operation (install/upgrade/rollback) is in progress"):
		return classification{ErrOperationInProgress, hintPending}
	case errors.As(err, &schemaErr), strings.Contains(msg, "values don't meet the specifications of the schema"),
		strings.Contains(msg, "execution error at"):
		// "execution error at (...)" is a template's `fail`, which the chart
		// uses for rules its schema cannot express.
		return classification{ErrInvalidValues, hintValues}
	case strings.Contains(msg, "Kubernetes cluster unreachable"):
		return classification{ErrClusterUnreachable, hintCluster}
	case errors.Is(err, context.Canceled), strings.Contains(msg, "context canceled"):
		// Helm flattens some errors into text ("uninstallation completed
		// with 1 error(s): context canceled").
		return classification{ErrInterrupted, hintInterrupted}
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(msg, "timed out waiting for the condition"),
		strings.Contains(msg, "context deadline exceeded"):
		return classification{ErrTimeout, hintTimeout}
	case strings.Contains(msg, "exists and cannot be imported into the current release"):
		return classification{ErrResourceConflict, hintConflict}
	case strings.Contains(msg, "chart requires kubeVersion"):
		return classification{nil, hintIncompatible}
	case strings.Contains(msg, `namespaces "`) && strings.Contains(msg, "not found"):
		return classification{nil, hintNamespace}
	}
	return classification{nil, ""}
}

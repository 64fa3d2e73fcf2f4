package tools

import "errors"

// Sentinel errors callers tell apart with errors.Is. The CLI maps them to exit
// codes: bad input (2) and approval required (3); anything else is a failed
// action (1).
var (
	// ErrInvalidArgs marks arguments that fail decoding or validation.
	// Nothing was read from or written to the cluster.
	ErrInvalidArgs = errors.New("invalid arguments")
	// ErrUnknownTool marks a call to a tool that is not registered.
	ErrUnknownTool = errors.New("unknown tool")
	// ErrNotFound marks a named object that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous marks a name that matches more than one object.
	ErrAmbiguous = errors.New("ambiguous name")
	// ErrApprovalRequired marks a mutation that was not approved because no
	// one could be asked (no terminal, --non-interactive) or a flag was missing.
	ErrApprovalRequired = errors.New("approval required")
	// ErrDeclined marks a mutation the user refused when asked.
	ErrDeclined = errors.New("declined by user")
	// ErrConflict marks an object that changed between the preview that was
	// approved and the write, so the write was not made.
	ErrConflict = errors.New("object changed since it was previewed")
	// ErrNotConverged marks a change that was made but whose wait never
	// reached the desired state (a rollout past its deadline, a drain
	// blocked by a PodDisruptionBudget). The CLI gives it its own exit code.
	ErrNotConverged = errors.New("did not converge")
)

// IsBadInput reports whether err means the request itself was wrong (unknown
// tool, invalid arguments, unknown or ambiguous name).
func IsBadInput(err error) bool {
	return errors.Is(err, ErrInvalidArgs) || errors.Is(err, ErrUnknownTool) ||
		errors.Is(err, ErrNotFound) || errors.Is(err, ErrAmbiguous)
}

package objecttools

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FieldConflict is one field of an object that another field manager owns
// with a different value than the manifest asks for.
type FieldConflict struct {
	Object string `json:"object"`
	Field  string `json:"field"`
	// Owner is the API's description of the owner, e.g.
	// `conflict with "helm" using apps/v1`.
	Owner string `json:"owner"`
}

// FieldConflicts is a list of field conflicts.
type FieldConflicts []FieldConflict

func (fc FieldConflicts) String() string {
	parts := make([]string, len(fc))
	for i, c := range fc {
		parts[i] = fmt.Sprintf("%s: field %s (%s)", c.Object, c.Field, c.Owner)
	}
	return strings.Join(parts, "; ")
}

// FieldConflictError is returned when applying would take over fields that
// other field managers own. apply_objects never forces ownership: the
// owner (a Helm release, a controller, another team's pipeline) would put
// its value back, or lose track of its own field.
type FieldConflictError struct {
	Conflicts FieldConflicts
}

func (e *FieldConflictError) Error() string {
	return fmt.Sprintf("the manifests set fields that another field manager owns, and apply_objects never takes them over by force: %s. "+
		"Nothing was changed. Change these fields with patch_object (a patch does not take ownership), "+
		"or through their owner (e.g. the Helm release), or drop them from the manifest", e.Conflicts)
}

// isFieldConflict reports whether err is a server-side apply conflict with
// another field manager (not a resourceVersion mismatch).
func isFieldConflict(err error) bool {
	if !apierrors.IsConflict(err) {
		return false
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) || st.Status().Details == nil {
		return false
	}
	for _, c := range st.Status().Details.Causes {
		if c.Type == metav1.CauseTypeFieldManagerConflict {
			return true
		}
	}
	return false
}

// conflictsOf lists the field-manager conflicts the API reported for r.
func conflictsOf(r objectRef, err error) FieldConflicts {
	var out FieldConflicts
	var st apierrors.APIStatus
	if !errors.As(err, &st) || st.Status().Details == nil {
		return out
	}
	for _, c := range st.Status().Details.Causes {
		if c.Type == metav1.CauseTypeFieldManagerConflict {
			out = append(out, FieldConflict{Object: r.String(), Field: c.Field, Owner: c.Message})
		}
	}
	return out
}

package release

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/storage/driver"
)

// TestClassify pins the Helm v3.22 error messages classify relies on.
func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want error
	}{
		{driver.ErrReleaseNotFound, ErrReleaseNotFound},
		{fmt.Errorf("wrapped: %w", driver.ErrReleaseNotFound), ErrReleaseNotFound},
		{driver.NewErrNoDeployedReleases("todo"), ErrReleaseNotFound},
		{errors.New("another operation (install/upgrade/rollback) is in progress"), ErrOperationInProgress},
		{errors.New("values don't meet the specifications of the schema(s) in the following chart(s):\ntodo-chatbot:\n- at '/x': y"), ErrInvalidValues},
		{errors.New("execution error at (todo-chatbot/templates/validate.yaml:5:4): nope"), ErrInvalidValues},
		{errors.New("Kubernetes cluster unreachable: Get \"https://127.0.0.1:6443/version\": dial tcp: connection refused"), ErrClusterUnreachable},
		{context.DeadlineExceeded, ErrTimeout},
		{errors.New("timed out waiting for the condition"), ErrTimeout},
		{errors.New("Unable to continue with install: PersistentVolumeClaim \"x\" in namespace \"y\" exists and cannot be imported into the current release: invalid ownership metadata"), ErrResourceConflict},
		{errors.New("release todo failed, and has been rolled back due to atomic being set: context deadline exceeded"), ErrRolledBack},
		{errors.New("release todo failed, and has been uninstalled due to atomic being set: timed out waiting for the condition"), ErrRolledBack},
		{context.Canceled, ErrInterrupted},
		{fmt.Errorf("release todo failed: %w", context.Canceled), ErrInterrupted},
		{errors.New("uninstallation completed with 1 error(s): context canceled"), ErrInterrupted},
		{errors.New("release todo failed, and has been rolled back due to atomic being set: context canceled"), ErrRolledBack},
		{errors.New("something else"), nil},
	}
	for _, tt := range tests {
		if got := classify(tt.err).kind; got != tt.want {
			t.Errorf("classify(%q) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	err := &Error{Op: "upgrade", Release: "todo", Namespace: "ns", Kind: ErrTimeout, Err: cause, Hint: "wait"}
	want := `upgrade release "todo" in namespace "ns": timed out waiting for the release to become ready: boom (next: wait)`
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, cause) {
		t.Errorf("errors.Is must see both the kind and the cause")
	}
	list := &Error{Op: "list", Namespace: "ns", Err: cause}
	if got := list.Error(); got != `list releases in namespace "ns": boom` {
		t.Errorf("Error() = %q", got)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	if got := timeout(context.Background(), 0); got != DefaultTimeout {
		t.Errorf("default = %v", got)
	}
	if got := timeout(context.Background(), time.Minute); got != time.Minute {
		t.Errorf("explicit = %v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if got := timeout(ctx, time.Hour); got > 30*time.Second || got < 29*time.Second {
		t.Errorf("a sooner ctx deadline should win, got %v", got)
	}
}

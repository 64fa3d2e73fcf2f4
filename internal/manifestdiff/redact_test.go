package manifestdiff

import (
	"strings"
	"testing"
)

func TestRedactSecretPair(t *testing.T) {
	t.Parallel()
	old := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  SAME: c2FtZQ==\n  CHANGED: b2xk\n  GONE: Z29uZQ==\n"
	neu := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  SAME: c2FtZQ==\n  CHANGED: bmV3\n  ADDED: YWRkZWQ=\nstringData:\n  PLAIN: hunter2\n"
	gotOld, gotNew := RedactSecretPair(old, neu)
	wantOld := "apiVersion: v1\ndata:\n  CHANGED: (redacted)\n  GONE: (redacted)\n  SAME: (redacted)\nkind: Secret\nmetadata:\n  name: s\n"
	wantNew := "apiVersion: v1\ndata:\n  ADDED: (redacted, changed)\n  CHANGED: (redacted, changed)\n  SAME: (redacted)\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  PLAIN: (redacted, changed)\n"
	if gotOld != wantOld {
		t.Errorf("old side:\n%s\nwant:\n%s", gotOld, wantOld)
	}
	if gotNew != wantNew {
		t.Errorf("new side:\n%s\nwant:\n%s", gotNew, wantNew)
	}

	// A created Secret: nothing to compare, every value hidden.
	if _, created := RedactSecretPair("", neu); strings.Contains(created, "hunter2") || strings.Contains(created, "bmV3") {
		t.Errorf("created secret leaks a value:\n%s", created)
	}
	// Unparsable input is hidden whole.
	o, n := RedactSecretPair("data: [", neu)
	if o != RedactedHidden || n != RedactedHidden {
		t.Errorf("unparsable pair = %q, %q", o, n)
	}
}

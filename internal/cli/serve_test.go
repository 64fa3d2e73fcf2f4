package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/opsagent/opsagent/internal/testcluster"
)

func TestServeValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		change  func(*ServeOptions)
		wantErr string
	}{
		{"defaults", func(*ServeOptions) {}, ""},
		{"no port", func(o *ServeOptions) { o.Addr = "localhost" }, "--addr"},
		{"cert without key", func(o *ServeOptions) { o.TLSCert = "tls.crt" }, "--tls-cert and --tls-key"},
		{"approval timeout too short", func(o *ServeOptions) { o.ApprovalTimeout = time.Second }, "--approval-timeout"},
	} {
		o := NewServeOptions(&GlobalOptions{}, genericiooptions.IOStreams{})
		tc.change(o)
		err := o.Validate(nil)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: Validate() = %v, want error containing %q", tc.name, err, tc.wantErr)
		}
	}
}

// `opsagent serve` with a kubeconfig prints an access token; its holders act
// as the kubeconfig's user, any other token is judged by the API server;
// cancelling the context (the first interrupt) shuts the server down.
func TestServeLocalAccessToken(t *testing.T) {
	t.Parallel()
	e := testcluster.New(t)
	flags, ok := e.Getter().(*genericclioptions.ConfigFlags)
	if !ok {
		t.Fatal("testcluster's getter is not ConfigFlags")
	}
	pr, pw := io.Pipe()
	o := NewServeOptions(&GlobalOptions{ConfigFlags: flags}, genericiooptions.IOStreams{Out: pw, ErrOut: io.Discard})
	o.Addr, o.PlannerOnly, o.AuditLog = "127.0.0.1:0", true, filepath.Join(t.TempDir(), "audit.log")
	o.getenv = diagEnv(t, nil)
	if err := o.Validate(nil); err != nil {
		t.Fatal(err)
	}
	if err := o.Complete(nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- o.Run(ctx)
		_ = pw.Close()
	}()

	// "Open http://127.0.0.1:PORT/#token=TOKEN"
	var base, token string
	sc := bufio.NewScanner(pr)
	for sc.Scan() && token == "" {
		if u, ok := strings.CutPrefix(sc.Text(), "Open "); ok {
			base, token, _ = strings.Cut(u, "#token=")
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if token == "" {
		t.Fatalf("serve printed no access token (err %v)", <-done)
	}

	self, err := e.Client.AuthenticationV1().SelfSubjectReviews().Create(t.Context(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	whoami := func(tok string) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"api/v1/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var who struct {
			User  string
			Local bool
		}
		_ = json.NewDecoder(resp.Body).Decode(&who)
		if resp.StatusCode == http.StatusOK && !who.Local {
			t.Errorf("the access token was not recognised as the local one")
		}
		return resp.StatusCode, who.User
	}
	if code, user := whoami(token); code != http.StatusOK || user != self.Status.UserInfo.Username {
		t.Errorf("whoami with the access token: %d %q, want 200 %q (the kubeconfig's user)", code, user, self.Status.UserInfo.Username)
	}
	if code, _ := whoami(token[:len(token)-1]); code != http.StatusUnauthorized {
		t.Errorf("whoami with a truncated access token: %d, want 401", code)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after cancel: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not shut down within a minute of its context ending")
	}
}

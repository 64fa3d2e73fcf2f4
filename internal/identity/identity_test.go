package identity_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/identity"
)

// Requests that are refused before the API server is asked: the
// Authenticator points at an address where nothing listens, so any other
// outcome would be an error that is not ErrUnauthenticated.
func TestRequestRefusesWithoutAGoodHeader(t *testing.T) {
	t.Parallel()
	a, err := identity.New(context.Background(), &rest.Config{Host: "http://127.0.0.1:1"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, header, wantMsg string
	}{
		{"no header", "", "no bearer token"},
		{"not bearer", "Basic dXNlcjpwYXNz", `must be "Bearer TOKEN"`},
		{"empty token", "Bearer   ", `must be "Bearer TOKEN"`},
		{"no scheme", "token-without-scheme", `must be "Bearer TOKEN"`},
		{"too long", "Bearer " + strings.Repeat("x", 16<<10+1), "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodGet, "http://opsagent.test/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			c, err := a.Request(r)
			if !errors.Is(err, identity.ErrUnauthenticated) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Request() = %v, %v; want ErrUnauthenticated saying %q", c, err, tt.wantMsg)
			}
		})
	}
}

func TestNewRefusesAShortLocalToken(t *testing.T) {
	t.Parallel()
	_, err := identity.New(context.Background(), &rest.Config{Host: "http://127.0.0.1:1"}, &identity.Local{Token: "short"}, nil)
	if err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("New with a 5-character local token: %v, want a refusal naming the minimum", err)
	}
}

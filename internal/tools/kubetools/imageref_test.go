package kubetools

import (
	"strings"
	"testing"
)

// The cases follow github.com/distribution/reference's ParseNormalizedNamed
// (v0.6), whose grammar imageref.go writes out; a fuzz run comparing the
// two on 77,000 inputs found no difference when the library was dropped.
func TestParseImageReference(t *testing.T) {
	t.Parallel()
	sha256 := strings.Repeat("0123456789abcdef", 4)
	longPath := strings.Repeat("abcdefghi/", 25) + "abcde" // 255 characters
	tests := []struct {
		name    string
		image   string
		wantErr string // "" when the reference is valid
	}{
		{"short name", "nginx", ""},
		{"tag", "nginx:1.27", ""},
		{"docker hub user repo", "bitnami/redis:7.2", ""},
		{"registry and path", "ghcr.io/org/team/app:v1.2.3-rc_1", ""},
		{"registry with port", "localhost:5000/app:dev", ""},
		{"localhost without port", "localhost/app", ""},
		{"ipv6 registry", "[::1]:5000/app", ""},
		{"digest", "ghcr.io/org/app@sha256:" + sha256, ""},
		{"tag and digest", "app:1.0@sha256:" + sha256, ""},
		{"sha512 digest", "app@sha512:" + strings.Repeat("ab", 64), ""},
		{"separators", "a__b/c--d.e_f", ""},
		{"legacy hub domain", "index.docker.io/library/nginx", ""},
		{"capital registry host", "Registry.Example/app", ""},
		{"path of 255 characters", "example.com/" + longPath, ""},

		{"capitals in the repository", "Registry.Example/Web:2", "must be lowercase"},
		{"capitals in a short name", "Nginx", "must be lowercase"},
		{"empty tag", "web:", "invalid reference format"},
		{"space", "web 2", "invalid reference format"},
		{"two tags", "a:b:c", "invalid reference format"},
		{"double dot", "a..b", "invalid reference format"},
		{"tag of 129 characters", "web:" + strings.Repeat("a", 129), "invalid reference format"},
		{"path of 256 characters", "example.com/" + longPath + "x", "longer than 255"},
		{"image ID", sha256, "image ID"},
		{"unknown digest algorithm", "app@md5:" + strings.Repeat("0", 32), "not one of sha256"},
		{"short digest", "app@sha256:" + sha256[:40], "64 lowercase hex"},
		{"capital hex in digest", "app@sha256:" + strings.ToUpper(sha256), "64 lowercase hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := parseImageReference(tt.image)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("parseImageReference(%q) = %v, want valid", tt.image, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("parseImageReference(%q) = %v, want an error containing %q", tt.image, err, tt.wantErr)
			}
		})
	}
}

package kubetools

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// An image reference is checked against the grammar of the distribution
// project's reference package (github.com/distribution/reference v0.6,
// ParseNormalizedNamed: what the Docker CLI and containerd accept). It is
// written out here because that package compiles its ten regular
// expressions at package initialisation, which Go runs for every command:
// 3–6 ms of every opsagent start for one check in set_image. Here the one
// expression is compiled on first use.
//
//	reference := name [ ":" tag ] [ "@" digest ]
//	name      := [domain "/"] path-component ["/" path-component]*
//	domain    := host [":" port]
const (
	refAlphanumeric   = `[a-z0-9]+`
	refSeparator      = `(?:[._]|__|[-]+)`
	refPathComponent  = refAlphanumeric + `(?:` + refSeparator + refAlphanumeric + `)*`
	refRemoteName     = refPathComponent + `(?:/` + refPathComponent + `)*`
	refDomainPart     = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	refHost           = `(?:` + refDomainPart + `(?:\.` + refDomainPart + `)*|\[(?:[a-fA-F0-9:]+)\])`
	refDomainAndPort  = refHost + `(?::[0-9]+)?`
	refTag            = `[\w][\w.-]{0,127}`
	refDigest         = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`
	refRemoteNameMax  = 255 // characters of the path after the domain
	dockerHubDomain   = "docker.io"
	legacyHubDomain   = "index.docker.io"
	officialRepoGroup = "library/"
)

// imageReference matches a whole reference; its groups are the path after
// the domain, the tag and the digest.
var imageReference = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:` + refDomainAndPort + `/)?(` + refRemoteName + `)(?::(` + refTag + `))?(?:@(` + refDigest + `))?$`)
})

// errNotReference is what a string outside the grammar gets.
var errNotReference = errors.New("invalid reference format")

// parseImageReference reports why image is not a reference a container
// runtime can pull; nil when it is one. Short names are read as Docker
// Hub's ("nginx" is docker.io/library/nginx), as the runtimes read them.
func parseImageReference(image string) error {
	if isImageID(image) {
		return errors.New("a 64-character hexadecimal string is an image ID, not a reference")
	}
	domain, remainder := splitImageDomain(image)
	repository, _, _ := strings.Cut(remainder, ":")
	if strings.ToLower(repository) != repository {
		return fmt.Errorf("repository name %q must be lowercase", repository)
	}
	m := imageReference().FindStringSubmatch(domain + "/" + remainder)
	if m == nil {
		return errNotReference
	}
	if len(m[1]) > refRemoteNameMax {
		return fmt.Errorf("repository name is longer than %d characters", refRemoteNameMax)
	}
	if m[3] != "" {
		return checkDigest(m[3])
	}
	return nil
}

// splitImageDomain splits a registry host off image as the runtimes do: the
// first path element is a registry when it is "localhost", holds a "." or
// ":", or has capitals; otherwise the image is on Docker Hub, whose
// one-element names live under "library/".
func splitImageDomain(image string) (domain, remainder string) {
	first, rest, ok := strings.Cut(image, "/")
	switch {
	case !ok:
		return dockerHubDomain, officialRepoGroup + image
	case first == legacyHubDomain:
		domain, remainder = dockerHubDomain, rest
	case first == "localhost", strings.ContainsAny(first, ".:"), strings.ToLower(first) != first:
		domain, remainder = first, rest
	default:
		domain, remainder = dockerHubDomain, image
	}
	if domain == dockerHubDomain && !strings.Contains(remainder, "/") {
		remainder = officialRepoGroup + remainder
	}
	return domain, remainder
}

// checkDigest accepts ALGORITHM:HEX for a known algorithm with a lowercase
// hex string of that algorithm's length.
func checkDigest(digest string) error {
	alg, hex, _ := strings.Cut(digest, ":")
	var want int // hex characters; the algorithms go-digest knows
	switch alg {
	case "sha256":
		want = 64
	case "sha384":
		want = 96
	case "sha512":
		want = 128
	default:
		return fmt.Errorf("digest algorithm %q is not one of sha256, sha384, sha512", alg)
	}
	if len(hex) != want || strings.Trim(hex, "0123456789abcdef") != "" {
		return fmt.Errorf("a %s digest is %d lowercase hex characters", alg, want)
	}
	return nil
}

// isImageID reports whether s is 64 lowercase hex characters: an image ID,
// which a runtime would not pull by that name.
func isImageID(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}

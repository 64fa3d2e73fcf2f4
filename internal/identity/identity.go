// Package identity turns a Kubernetes bearer token into the caller it
// belongs to, as the API server knows them (a SelfSubjectReview), with
// clients that act with that token. Every network surface — `opsagent
// serve`'s API and its /mcp endpoint, `opsagent mcp --http` — authenticates
// here, so one token means one caller whichever way it comes in.
package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/kube"
)

// Caller is who a request comes from, as the API server knows them.
type Caller struct {
	// User is the Kubernetes user name (system:serviceaccount:ns:name for
	// a ServiceAccount).
	User   string
	Groups []string
	// Local is set for holders of the local access token.
	Local bool
	// clients acts as the caller, defaulting to a namespace.
	clients func(namespace string) (*kube.Clients, error)
}

// Clients returns clients that act as the caller, defaulting to namespace
// ("" = the token's default: the kubeconfig's namespace for the local
// token, else kube.ForBearerToken's).
func (c *Caller) Clients(namespace string) (*kube.Clients, error) { return c.clients(namespace) }

// Local is the kubeconfig's user, lent to holders of Token (local use, as
// Jupyter does).
type Local struct {
	Token string
	// Clients returns the kubeconfig's clients defaulting to namespace
	// ("" = the kubeconfig's).
	Clients func(namespace string) (*kube.Clients, error)
}

// MinLocalTokenLen is the shortest local access token accepted.
const MinLocalTokenLen = 32

// Identity lookups are cached briefly so that a page polling, or a bot
// sending many reads, costs the API server one review per token per TTL.
// Only the name is cached: every cluster call still carries the token, so a
// revoked token stops working on the cluster at once.
const (
	ttl           = 30 * time.Second
	maxCached     = 4096
	maxTokenBytes = 16 << 10
)

// ErrUnauthenticated marks a request without a token the API server
// accepts: answered with 401. Other errors say the API server could not be
// asked.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticator turns bearer tokens into callers. It is safe for
// concurrent use.
type Authenticator struct {
	base   *rest.Config
	mapper meta.RESTMapper
	// localHash is the SHA-256 of the local token: comparing hashes keeps
	// the comparison constant-time whatever the presented token's length.
	localHash [32]byte
	localUser *Caller

	mu    sync.Mutex
	cache map[[32]byte]cachedIdentity
}

type cachedIdentity struct {
	user    string
	groups  []string
	expires time.Time
}

// New returns an Authenticator for the API server of base (only its
// address and CA are used for callers: kube.ForBearerToken drops every
// credential); mapper is shared by all callers. With local, it asks the API
// server who the kubeconfig's user is, once.
func New(ctx context.Context, base *rest.Config, local *Local, mapper meta.RESTMapper) (*Authenticator, error) {
	a := &Authenticator{base: base, mapper: mapper, cache: map[[32]byte]cachedIdentity{}}
	if local == nil {
		return a, nil
	}
	if len(local.Token) < MinLocalTokenLen {
		return nil, fmt.Errorf("the local access token must be at least %d characters", MinLocalTokenLen)
	}
	a.localHash = sha256.Sum256([]byte(local.Token))
	c, err := local.Clients("")
	if err != nil {
		return nil, err
	}
	info, err := review(ctx, c.Typed)
	if err != nil {
		return nil, fmt.Errorf("learn the kubeconfig's user (SelfSubjectReview): %w", err)
	}
	a.localUser = &Caller{User: info.Username, Groups: info.Groups, Local: true, clients: local.Clients}
	return a, nil
}

// LocalUser is the user local token holders act as ("" without Local).
func (a *Authenticator) LocalUser() string {
	if a.localUser == nil {
		return ""
	}
	return a.localUser.User
}

// Request finds the caller of r from its "Authorization: Bearer" header.
func (a *Authenticator) Request(r *http.Request) (*Caller, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return nil, fmt.Errorf("%w: no bearer token: send your Kubernetes token as \"Authorization: Bearer TOKEN\" (locally: the access token opsagent serve printed)", ErrUnauthenticated)
	}
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, fmt.Errorf("%w: the Authorization header must be \"Bearer TOKEN\"", ErrUnauthenticated)
	}
	return a.Token(r.Context(), token)
}

// Token finds the caller token belongs to: the local user for the local
// token, else whoever the API server says. Errors wrap ErrUnauthenticated
// or say the API server could not be asked.
func (a *Authenticator) Token(ctx context.Context, token string) (*Caller, error) {
	if len(token) > maxTokenBytes {
		return nil, fmt.Errorf("%w: the bearer token is longer than %d bytes", ErrUnauthenticated, maxTokenBytes)
	}
	sum := sha256.Sum256([]byte(token))
	if a.localUser != nil && subtle.ConstantTimeCompare(sum[:], a.localHash[:]) == 1 {
		return a.localUser, nil
	}
	clientsFor := func(ns string) (*kube.Clients, error) { return kube.ForBearerToken(a.base, token, ns, a.mapper) }
	if id, ok := a.cached(sum); ok {
		return &Caller{User: id.user, Groups: id.groups, clients: clientsFor}, nil
	}
	c, err := clientsFor("")
	if err != nil {
		return nil, err
	}
	info, err := review(ctx, c.Typed)
	switch {
	case apierrors.IsUnauthorized(err):
		return nil, fmt.Errorf("%w: the Kubernetes API server rejected the token (expired, revoked or not for this cluster); get a new one, e.g. kubectl create token NAME", ErrUnauthenticated)
	case err != nil:
		return nil, fmt.Errorf("could not verify the token with the Kubernetes API server (SelfSubjectReview): %w", err)
	case info.Username == "":
		return nil, fmt.Errorf("%w: the API server knows no user name for this token", ErrUnauthenticated)
	}
	a.remember(sum, info)
	return &Caller{User: info.Username, Groups: info.Groups, clients: clientsFor}, nil
}

func review(ctx context.Context, c kubernetes.Interface) (authenticationv1.UserInfo, error) {
	res, err := c.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return authenticationv1.UserInfo{}, err
	}
	return res.Status.UserInfo, nil
}

func (a *Authenticator) cached(sum [32]byte) (cachedIdentity, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.cache[sum]
	if !ok || time.Now().After(id.expires) {
		return cachedIdentity{}, false
	}
	return id, true
}

func (a *Authenticator) remember(sum [32]byte, info authenticationv1.UserInfo) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if len(a.cache) >= maxCached {
		for k, v := range a.cache {
			if now.After(v.expires) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCached {
			clear(a.cache) // a flood of distinct tokens: start over
		}
	}
	a.cache[sum] = cachedIdentity{user: info.Username, groups: info.Groups, expires: now.Add(ttl)}
}

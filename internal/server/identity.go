package server

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

// caller is who a request comes from, as the API server knows them.
type caller struct {
	// User is the Kubernetes user name (system:serviceaccount:ns:name for
	// a ServiceAccount); requests belong to it.
	User   string
	Groups []string
	// Local is set for holders of the local access token.
	Local bool
	// clients acts as the caller, defaulting to namespace.
	clients func(namespace string) (*kube.Clients, error)
}

// Identity lookups are cached briefly so that a page polling, or a bot
// sending many reads, costs the API server one review per token per TTL.
// Only the name is cached: every cluster call still carries the token, so a
// revoked token stops working on the cluster at once.
const (
	identityTTL       = 30 * time.Second
	maxCachedIdentity = 4096
	maxTokenBytes     = 16 << 10
)

// authenticator turns a bearer token into a caller.
type authenticator struct {
	base   *rest.Config
	mapper meta.RESTMapper
	local  *LocalAccess
	// localHash is the SHA-256 of the local token: comparing hashes keeps
	// the comparison constant-time whatever the presented token's length.
	localHash [32]byte
	localUser *caller
	anon      kubernetes.Interface

	mu    sync.Mutex
	cache map[[32]byte]cachedIdentity
}

type cachedIdentity struct {
	user    string
	groups  []string
	expires time.Time
}

// errUnauthenticated is answered with 401.
var errUnauthenticated = errors.New("unauthenticated")

func newAuthenticator(ctx context.Context, base *rest.Config, local *LocalAccess, mapper meta.RESTMapper) (*authenticator, error) {
	anon, err := kubernetes.NewForConfig(rest.AnonymousClientConfig(base))
	if err != nil {
		return nil, fmt.Errorf("build client for the readiness check: %w", err)
	}
	a := &authenticator{base: base, mapper: mapper, local: local, anon: anon, cache: map[[32]byte]cachedIdentity{}}
	if local != nil {
		if len(local.Token) < 32 {
			return nil, errors.New("server: the local access token must be at least 32 characters")
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
		a.localUser = &caller{User: info.Username, Groups: info.Groups, Local: true, clients: local.Clients}
	}
	return a, nil
}

// LocalUser is the user local token holders act as ("" without Local).
func (a *authenticator) LocalUser() string {
	if a.localUser == nil {
		return ""
	}
	return a.localUser.User
}

// authenticate finds the caller of r. Errors wrap errUnauthenticated
// (401) or say the API server could not be asked (502).
func (a *authenticator) authenticate(r *http.Request) (*caller, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return nil, fmt.Errorf("%w: no bearer token: send your Kubernetes token as \"Authorization: Bearer TOKEN\" (locally: the access token opsagent serve printed)", errUnauthenticated)
	}
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, fmt.Errorf("%w: the Authorization header must be \"Bearer TOKEN\"", errUnauthenticated)
	}
	if len(token) > maxTokenBytes {
		return nil, fmt.Errorf("%w: the bearer token is longer than %d bytes", errUnauthenticated, maxTokenBytes)
	}
	sum := sha256.Sum256([]byte(token))
	if a.localUser != nil && subtle.ConstantTimeCompare(sum[:], a.localHash[:]) == 1 {
		return a.localUser, nil
	}
	clientsFor := func(ns string) (*kube.Clients, error) { return kube.ForBearerToken(a.base, token, ns, a.mapper) }
	if id, ok := a.cached(sum); ok {
		return &caller{User: id.user, Groups: id.groups, clients: clientsFor}, nil
	}
	c, err := clientsFor("")
	if err != nil {
		return nil, err
	}
	info, err := review(r.Context(), c.Typed)
	switch {
	case apierrors.IsUnauthorized(err):
		return nil, fmt.Errorf("%w: the Kubernetes API server rejected the token (expired, revoked or not for this cluster); get a new one, e.g. kubectl create token NAME", errUnauthenticated)
	case err != nil:
		return nil, fmt.Errorf("could not verify the token with the Kubernetes API server (SelfSubjectReview): %w", err)
	case info.Username == "":
		return nil, fmt.Errorf("%w: the API server knows no user name for this token", errUnauthenticated)
	}
	a.remember(sum, info)
	return &caller{User: info.Username, Groups: info.Groups, clients: clientsFor}, nil
}

func review(ctx context.Context, c kubernetes.Interface) (authenticationv1.UserInfo, error) {
	res, err := c.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return authenticationv1.UserInfo{}, err
	}
	return res.Status.UserInfo, nil
}

func (a *authenticator) cached(sum [32]byte) (cachedIdentity, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.cache[sum]
	if !ok || time.Now().After(id.expires) {
		return cachedIdentity{}, false
	}
	return id, true
}

func (a *authenticator) remember(sum [32]byte, info authenticationv1.UserInfo) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if len(a.cache) >= maxCachedIdentity {
		for k, v := range a.cache {
			if now.After(v.expires) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCachedIdentity {
			clear(a.cache) // a flood of distinct tokens: start over
		}
	}
	a.cache[sum] = cachedIdentity{user: info.Username, groups: info.Groups, expires: now.Add(identityTTL)}
}

// ping checks that the API server answers at all.
func (a *authenticator) ping(ctx context.Context) error {
	_, err := a.anon.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	var status apierrors.APIStatus
	if err == nil || errors.As(err, &status) {
		return nil
	}
	return err
}

package mcpserver

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/kube"
)

// Path is where the Streamable HTTP endpoint is served.
const Path = "/mcp"

// HTTPConfig is what the HTTP handler needs to act as its callers.
type HTTPConfig struct {
	// Base points at the API server. Only its address and CA are used: each
	// call carries the caller's own bearer token (kube.ForBearerToken).
	Base *rest.Config
	// Namespace is every caller's default namespace, and what --yes covers.
	Namespace string
	// Mapper, if set, is shared by all callers (discovery is the same for
	// everyone); nil builds one with Base's credentials, used for
	// discovery only.
	Mapper meta.RESTMapper
}

// Timings of the HTTP handler.
const (
	// sessionIdle closes a session nobody used for this long.
	sessionIdle = 30 * time.Minute
	// tokenTTL is how long a verified token is trusted before the API
	// server is asked again; a revoked token stops working within it.
	tokenTTL = time.Minute
	// maxCachedTokens bounds the verified-token cache.
	maxCachedTokens = 1024
)

// NewHandler returns the Streamable HTTP handler for Path. Each request must
// carry `Authorization: Bearer <token>`, a Kubernetes token: no token, or
// one the API server rejects, is 401 before anything else runs; every tool
// call then acts as that token's holder, whose RBAC decides what it may
// read or change. A session stays bound to the user who opened it.
//
// Browsers are kept out: a request whose Origin is not the host it was sent
// to is refused (403), and on a loopback listener a Host that is not
// loopback is refused too (DNS rebinding). Bind to 127.0.0.1 unless the
// callers are elsewhere.
func NewHandler(cfg HTTPConfig, o Options) (http.Handler, error) {
	if cfg.Base == nil {
		return nil, errors.New("mcpserver: HTTPConfig.Base (the API server's address) is required")
	}
	c, err := newCore(o)
	if err != nil {
		return nil, err
	}
	if cfg.Mapper == nil {
		// Discovery with Base's own credentials: it is the same for every
		// caller, and anonymous discovery is usually refused.
		if cfg.Mapper, err = kube.NewMapper(cfg.Base); err != nil {
			return nil, err
		}
	}
	v := &verifier{cfg: cfg, core: c, cache: map[[32]byte]cachedCaller{}}
	c.callerFor = callerFromToken
	srv := c.newMCPServer()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		SessionTimeout: sessionIdle,
		Logger:         c.log,
		// DNS rebinding protection (the Host check) is the SDK's default.
	})
	authed := auth.RequireBearerToken(v.verify, &auth.RequireBearerTokenOptions{
		// Kubernetes does not tell a token's expiry; the API server judges
		// it on every verification.
		AllowMissingExpiration: true,
	})(h)
	return http.NewCrossOriginProtection().Handler(authed), nil
}

// callerKey is where the verifier leaves the caller in the TokenInfo the
// SDK hands to each call.
const callerKey = "opsagent.caller"

// callerFromToken is the caller a verified token belongs to. There is no
// fallback: a call without one acts as nobody.
func callerFromToken(req *mcp.CallToolRequest) (*caller, error) {
	if req.Extra != nil && req.Extra.TokenInfo != nil {
		if who, ok := req.Extra.TokenInfo.Extra[callerKey].(*caller); ok && who != nil {
			return who, nil
		}
	}
	return nil, errors.New("this call carries no verified Kubernetes bearer token, so it acts as nobody; send Authorization: Bearer <token>")
}

// verifier checks bearer tokens with the API server (a SelfSubjectReview:
// who am I?) and keeps the caller of a good one for tokenTTL.
type verifier struct {
	cfg  HTTPConfig
	core *core

	mu    sync.Mutex
	cache map[[32]byte]cachedCaller
}

type cachedCaller struct {
	who     *caller
	expires time.Time
}

func (v *verifier) verify(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	key := sha256.Sum256([]byte(token))
	who, err := v.lookup(ctx, key, token)
	if err != nil {
		return nil, err
	}
	// UserID binds the session to this user: another user's token cannot
	// continue it.
	return &auth.TokenInfo{UserID: who.user, Extra: map[string]any{callerKey: who}}, nil
}

func (v *verifier) lookup(ctx context.Context, key [32]byte, token string) (*caller, error) {
	now := time.Now()
	v.mu.Lock()
	if e, ok := v.cache[key]; ok && now.Before(e.expires) {
		v.mu.Unlock()
		return e.who, nil
	}
	v.mu.Unlock()

	clients, err := kube.ForBearerToken(v.cfg.Base, token, v.cfg.Namespace, v.cfg.Mapper)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
	}
	review, err := clients.Typed.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	switch {
	case apierrors.IsUnauthorized(err):
		return nil, fmt.Errorf("%w: the Kubernetes API server does not accept this token", auth.ErrInvalidToken)
	case err != nil:
		return nil, fmt.Errorf("checking the bearer token with the Kubernetes API server: %w", err)
	}
	user := review.Status.UserInfo.Username
	if user == "" {
		return nil, fmt.Errorf("%w: the API server names no user for this token", auth.ErrInvalidToken)
	}
	who := newCaller(v.core.opts, v.core.declared, clients, user)

	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.cache) >= maxCachedTokens {
		for k, e := range v.cache {
			if !now.Before(e.expires) {
				delete(v.cache, k)
			}
		}
		if len(v.cache) >= maxCachedTokens {
			clear(v.cache)
		}
	}
	v.cache[key] = cachedCaller{who: who, expires: now.Add(tokenTTL)}
	return who, nil
}

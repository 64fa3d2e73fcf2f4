package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"

	"github.com/opsagent/opsagent/internal/identity"
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
	// Auth, if set, is the authenticator shared with another surface:
	// `opsagent serve` passes its own, so a token (its local access token
	// included) is the same caller on /mcp as on its API. nil builds one
	// for Base, without local access.
	Auth *identity.Authenticator
}

// sessionIdle closes a session nobody used for this long.
const sessionIdle = 30 * time.Minute

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
	if cfg.Auth == nil {
		// Without local access New does no I/O, so no context is needed.
		if cfg.Auth, err = identity.New(context.Background(), cfg.Base, nil, cfg.Mapper); err != nil {
			return nil, err
		}
	}
	v := &verifier{auth: cfg.Auth, namespace: cfg.Namespace, core: c}
	c.callerFor = callerFromToken
	srv := c.newMCPServer()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		SessionTimeout: sessionIdle,
		Logger:         c.log,
		// DNS rebinding protection (the Host check) is the SDK's default.
	})
	authed := auth.RequireBearerToken(v.verify, &auth.RequireBearerTokenOptions{
		// Kubernetes does not tell a token's expiry; the API server judges
		// it (identity caches its answer briefly).
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

// verifier turns a bearer token into the caller whose clients and tools a
// call uses, through the shared identity.Authenticator.
type verifier struct {
	auth      *identity.Authenticator
	namespace string
	core      *core
}

func (v *verifier) verify(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	who, err := v.auth.Token(ctx, token)
	switch {
	case errors.Is(err, identity.ErrUnauthenticated):
		return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
	case err != nil:
		return nil, err
	}
	clients, err := who.Clients(v.namespace)
	if err != nil {
		return nil, fmt.Errorf("build clients for %s: %w", who.User, err)
	}
	// UserID binds the session to this user: another user's token cannot
	// continue it.
	return &auth.TokenInfo{UserID: who.User, Extra: map[string]any{callerKey: newCaller(v.core.opts, v.core.declared, clients, who.User)}}, nil
}

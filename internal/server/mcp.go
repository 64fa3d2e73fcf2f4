package server

import (
	"net/http"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/mcpserver"
	"github.com/opsagent/opsagent/internal/tools"
	"github.com/opsagent/opsagent/internal/toolset"
)

// newMCPHandler is the MCP endpoint served at mcpserver.Path. It shares the
// server's authenticator, so a bearer token is the same caller there as on
// the API (the local access token acts as the kubeconfig's user), and the
// server's rules: --read-only, the audit log, and no change without a
// person — nothing is approved in advance (no --yes), so a change is asked
// through MCP elicitation and refused when the client cannot ask. Its
// callers' default namespace is their token's, as on the API.
func (s *Server) newMCPHandler() (http.Handler, error) {
	return mcpserver.NewHandler(
		mcpserver.HTTPConfig{Base: s.cfg.Base, Mapper: s.mapper, Auth: s.auth},
		mcpserver.Options{
			NewTools: func(c *kube.Clients) []tools.Tool { return toolset.New(c, toolset.Options{}) },
			ReadOnly: s.cfg.ReadOnly,
			AuditLog: s.cfg.LLM.AuditLog,
			Logger:   s.log.With("via", "mcp"),
		})
}

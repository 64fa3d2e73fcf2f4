package mcpserver

import (
	"errors"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opsagent/opsagent/internal/kube"
)

// NewServer returns the server `opsagent mcp` runs over stdio. Every call
// acts with clients — the kubeconfig, context and namespace the command was
// started with — since the person who started it is the one it serves.
func NewServer(clients *kube.Clients, o Options) (*mcp.Server, error) {
	if clients == nil {
		return nil, errors.New("mcpserver: clients are required")
	}
	c, err := newCore(o)
	if err != nil {
		return nil, err
	}
	who := newCaller(c.opts, c.declared, clients, "")
	c.callerFor = func(*mcp.CallToolRequest) (*caller, error) { return who, nil }
	return c.newMCPServer(), nil
}

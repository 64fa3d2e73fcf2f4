package agent

import (
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/opsagent/opsagent/internal/config"
	"github.com/opsagent/opsagent/internal/llmclient"
)

// requestTimeout bounds one model call; local models can be slow.
const requestTimeout = 2 * time.Minute

// NewChatClient builds the go-openai client for the configured endpoint:
// OpenAI, or any compatible server (Ollama, vLLM, LM Studio) through
// BaseURL, or Azure OpenAI with APIType "azure".
func NewChatClient(c config.Config) *openai.Client {
	return llmclient.New(c, requestTimeout)
}

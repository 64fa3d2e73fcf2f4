package agent

import (
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/opsagent/opsagent/internal/config"
)

// requestTimeout bounds one model call; local models can be slow.
const requestTimeout = 2 * time.Minute

// NewChatClient builds the go-openai client for the configured endpoint:
// OpenAI, or any compatible server (Ollama, vLLM, LM Studio) through
// BaseURL, or Azure OpenAI with APIType "azure".
func NewChatClient(c config.Config) *openai.Client {
	var oc openai.ClientConfig
	if c.APIType == config.APITypeAzure {
		oc = openai.DefaultAzureConfig(c.APIKey, c.BaseURL)
		if c.APIVersion != "" {
			oc.APIVersion = c.APIVersion
		}
	} else {
		oc = openai.DefaultConfig(c.APIKey)
		if c.BaseURL != "" {
			oc.BaseURL = c.BaseURL
		}
	}
	oc.HTTPClient = &http.Client{Timeout: requestTimeout}
	return openai.NewClientWithConfig(oc)
}

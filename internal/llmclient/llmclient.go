// Package llmclient builds the go-openai client for the configured endpoint:
// OpenAI, any compatible server (Ollama, vLLM, LM Studio) through BaseURL, or
// Azure OpenAI with APIType "azure". The agent loop and diagnose --explain
// share it.
package llmclient

import (
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/opsagent/opsagent/internal/config"
)

// New returns a client whose every request is bounded by timeout.
func New(c config.Config, timeout time.Duration) *openai.Client {
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
	oc.HTTPClient = &http.Client{Timeout: timeout}
	return openai.NewClientWithConfig(oc)
}

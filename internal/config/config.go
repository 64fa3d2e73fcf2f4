// Package config resolves opsagent's settings: the OpenAI-compatible model
// endpoint and the audit log location. Each setting has one name, used both
// as the environment variable and as the key in the config file:
//
//	OPENAI_API_KEY      key for the endpoint; without it the planner runs
//	OPENAI_BASE_URL     endpoint (Azure, Ollama, vLLM, LM Studio, ...)
//	OPENAI_API_TYPE     "openai" (default) or "azure"
//	OPENAI_API_VERSION  Azure API version (default: go-openai's)
//	OPSAGENT_MODEL      model name (Azure: deployment name)
//	OPSAGENT_AUDIT_LOG  audit log path
//
// The file is YAML at $OPSAGENT_CONFIG, else
// $XDG_CONFIG_HOME/opsagent/config.yaml (default ~/.config/opsagent/config.yaml),
// e.g.
//
//	OPENAI_BASE_URL: http://localhost:11434/v1
//	OPENAI_API_KEY: ollama
//	OPSAGENT_MODEL: qwen2.5:7b
//
// Precedence: command-line flags, then the environment, then the file, then
// defaults.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// Setting names, shared by the environment and the config file.
const (
	KeyAPIKey     = "OPENAI_API_KEY"
	KeyBaseURL    = "OPENAI_BASE_URL"
	KeyAPIType    = "OPENAI_API_TYPE"
	KeyAPIVersion = "OPENAI_API_VERSION"
	KeyModel      = "OPSAGENT_MODEL"
	KeyAuditLog   = "OPSAGENT_AUDIT_LOG"
	// EnvConfigFile names the config file explicitly (environment only).
	EnvConfigFile = "OPSAGENT_CONFIG"
)

// DefaultModel is used when no model is configured.
const DefaultModel = "gpt-4o-mini"

// API types accepted in OPENAI_API_TYPE.
const (
	APITypeOpenAI = "openai"
	APITypeAzure  = "azure"
)

// Config is the resolved configuration.
type Config struct {
	APIKey     string
	BaseURL    string
	APIType    string
	APIVersion string
	Model      string
	// AuditLog is the audit log path; empty only when no home folder is known.
	AuditLog string
	// File is the config file that was read, "" if none existed.
	File string
}

// LLMEnabled reports whether a model endpoint is configured. Local endpoints
// that need no key still need a non-empty one (e.g. OPENAI_API_KEY=ollama),
// so that a missing key always means "use the planner".
func (c Config) LLMEnabled() bool { return c.APIKey != "" }

// fileConfig is the config file's shape; unknown keys are an error so that a
// typo is not silently ignored.
type fileConfig struct {
	APIKey     string `json:"OPENAI_API_KEY,omitempty"`
	BaseURL    string `json:"OPENAI_BASE_URL,omitempty"`
	APIType    string `json:"OPENAI_API_TYPE,omitempty"`
	APIVersion string `json:"OPENAI_API_VERSION,omitempty"`
	Model      string `json:"OPSAGENT_MODEL,omitempty"`
	AuditLog   string `json:"OPSAGENT_AUDIT_LOG,omitempty"`
}

// Load resolves the configuration from the environment (read through getenv,
// e.g. os.Getenv) and the config file. A missing file is not an error; an
// unreadable or invalid one is.
func Load(getenv func(string) string) (Config, error) {
	path, explicit := FilePath(getenv)
	file, used, err := readFile(path, explicit)
	if err != nil {
		return Config{}, err
	}
	pick := func(key, fromFile string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return strings.TrimSpace(fromFile)
	}
	c := Config{
		APIKey:     pick(KeyAPIKey, file.APIKey),
		BaseURL:    pick(KeyBaseURL, file.BaseURL),
		APIType:    strings.ToLower(pick(KeyAPIType, file.APIType)),
		APIVersion: pick(KeyAPIVersion, file.APIVersion),
		Model:      pick(KeyModel, file.Model),
		AuditLog:   pick(KeyAuditLog, file.AuditLog),
		File:       used,
	}
	if c.APIType == "" {
		c.APIType = APITypeOpenAI
	}
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.AuditLog == "" {
		c.AuditLog = DefaultAuditLog(getenv)
	}
	return c, c.Validate()
}

func readFile(path string, explicit bool) (fileConfig, string, error) {
	var file fileConfig
	if path == "" {
		return file, "", nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !explicit:
		return file, "", nil
	case err != nil:
		return file, "", fmt.Errorf("read config file %s: %w (create it or unset %s)", path, err, EnvConfigFile)
	}
	if err := yaml.UnmarshalStrict(data, &file); err != nil {
		return file, "", fmt.Errorf("config file %s: %w (known keys: %s)", path, err, strings.Join(knownKeys(), ", "))
	}
	return file, path, nil
}

// Validate checks values that Load cannot fix.
func (c Config) Validate() error {
	switch c.APIType {
	case APITypeOpenAI:
	case APITypeAzure:
		if c.BaseURL == "" {
			return fmt.Errorf("%s=azure needs %s (your Azure OpenAI endpoint)", KeyAPIType, KeyBaseURL)
		}
	default:
		return fmt.Errorf("%s is %q: want %q or %q", KeyAPIType, c.APIType, APITypeOpenAI, APITypeAzure)
	}
	return nil
}

// FilePath returns the config file location and whether it was named
// explicitly with OPSAGENT_CONFIG (then it must exist).
func FilePath(getenv func(string) string) (path string, explicit bool) {
	if p := getenv(EnvConfigFile); p != "" {
		return p, true
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", false
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "opsagent", "config.yaml"), false
}

// DefaultAuditLog is $XDG_STATE_HOME/opsagent/audit.log, defaulting to
// ~/.local/state/opsagent/audit.log. Without a home it is "": a shared
// folder such as /tmp would let another user plant or read the log, so the
// audit log then refuses every change until a path is configured.
func DefaultAuditLog(getenv func(string) string) string {
	dir := getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "opsagent", "audit.log")
}

func knownKeys() []string {
	return []string{KeyAPIKey, KeyBaseURL, KeyAPIType, KeyAPIVersion, KeyModel, KeyAuditLog}
}

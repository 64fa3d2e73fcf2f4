package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/config"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "opsagent", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string // written under XDG_CONFIG_HOME when not empty
		env     map[string]string
		want    config.Config
		wantErr string
	}{
		{
			name: "defaults",
			env:  map[string]string{"XDG_STATE_HOME": "/state"},
			want: config.Config{APIType: "openai", Model: config.DefaultModel, AuditLog: "/state/opsagent/audit.log"},
		},
		{
			name: "file",
			file: "OPENAI_API_KEY: from-file\nOPENAI_BASE_URL: http://localhost:11434/v1\nOPSAGENT_MODEL: qwen2.5\n",
			env:  map[string]string{"XDG_STATE_HOME": "/state"},
			want: config.Config{APIKey: "from-file", BaseURL: "http://localhost:11434/v1", APIType: "openai", Model: "qwen2.5", AuditLog: "/state/opsagent/audit.log"},
		},
		{
			name: "environment wins over file",
			file: "OPENAI_API_KEY: from-file\nOPSAGENT_MODEL: qwen2.5\nOPSAGENT_AUDIT_LOG: /file/audit.log\n",
			env:  map[string]string{"OPENAI_API_KEY": "from-env", "OPSAGENT_AUDIT_LOG": "/env/audit.log"},
			want: config.Config{APIKey: "from-env", APIType: "openai", Model: "qwen2.5", AuditLog: "/env/audit.log"},
		},
		{
			name:    "unknown key",
			file:    "OPENAI_KEY: typo\n",
			wantErr: "known keys",
		},
		{
			name:    "azure needs a base URL",
			env:     map[string]string{"OPENAI_API_TYPE": "Azure", "OPENAI_API_KEY": "k"},
			wantErr: "OPENAI_BASE_URL",
		},
		{
			name:    "bad api type",
			env:     map[string]string{"OPENAI_API_TYPE": "anthropic"},
			wantErr: "want \"openai\" or \"azure\"",
		},
		{
			name:    "explicit file must exist",
			env:     map[string]string{"OPSAGENT_CONFIG": "/nonexistent/opsagent.yaml"},
			wantErr: "OPSAGENT_CONFIG",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := map[string]string{"XDG_CONFIG_HOME": dir}
			for k, v := range tt.env {
				env[k] = v
			}
			var path string
			if tt.file != "" {
				path = writeFile(t, dir, tt.file)
			}
			got, err := config.Load(envOf(env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.File = path
			if got != tt.want {
				t.Errorf("Load() = %+v\nwant      %+v", got, tt.want)
			}
			if got.LLMEnabled() != (tt.want.APIKey != "") {
				t.Errorf("LLMEnabled() = %v with key %q", got.LLMEnabled(), got.APIKey)
			}
		})
	}
}

func TestFilePathDefault(t *testing.T) {
	t.Parallel()
	path, explicit := config.FilePath(envOf(map[string]string{"XDG_CONFIG_HOME": "/cfg"}))
	if path != "/cfg/opsagent/config.yaml" || explicit {
		t.Errorf("FilePath = %q, %v", path, explicit)
	}
}

// TestDefaultAuditLogWithoutHome: without a home folder or XDG_STATE_HOME
// there is no default audit log; a shared folder such as /tmp would let
// another user plant or read it.
func TestDefaultAuditLogWithoutHome(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("XDG_STATE_HOME", "")
	if got := config.DefaultAuditLog(os.Getenv); got != "" {
		t.Errorf("DefaultAuditLog() = %q, want \"\"", got)
	}
	if got := config.DefaultAuditLog(envOf(map[string]string{"XDG_STATE_HOME": "/state"})); got != "/state/opsagent/audit.log" {
		t.Errorf("DefaultAuditLog() with XDG_STATE_HOME = %q", got)
	}
}

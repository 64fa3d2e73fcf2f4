package releasetools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/tools"
)

func TestArgsValidation(t *testing.T) {
	t.Parallel()
	reg := tools.NewRegistry(New(nil, "", Options{})...)
	tests := []struct {
		name, tool, args string
	}{
		{"long release", NameDeploy, `{"release":"` + strings.Repeat("a", 54) + `"}`},
		{"bad release", NameStatus, `{"release":"Bad_Name"}`},
		{"bad set", NameDeploy, `{"values_set":["novalue"]}`},
		{"timeout too long", NameDeploy, `{"timeout_seconds":3601}`},
		{"negative revision", NameRollback, `{"revision":-1}`},
		{"bad namespace", NameUninstall, `{"namespace":"A B"}`},
		{"unknown arg", NameHistory, `{"force":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tool, err := reg.Lookup(tt.tool)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tool.Prepare(context.Background(), json.RawMessage(tt.args)); !errors.Is(err, tools.ErrInvalidArgs) {
				t.Errorf("Prepare(%s) error = %v, want ErrInvalidArgs", tt.args, err)
			}
		})
	}
}

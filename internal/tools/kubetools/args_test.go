package kubetools

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

// TestToolsDeclared checks the contract other packages rely on: the names,
// the fixed risks, and that every argument is described for the model.
func TestToolsDeclared(t *testing.T) {
	t.Parallel()
	reg := tools.NewRegistry(New(&kube.Clients{})...)
	want := map[string]struct {
		risk     tools.Risk
		required []string
	}{
		NameListResources:      {tools.Read, []string{"kind"}},
		NameGetResource:        {tools.Read, []string{"kind", "name"}},
		NamePodLogs:            {tools.Read, []string{"name"}},
		NameListEvents:         {tools.Read, nil},
		NameRolloutStatus:      {tools.Read, []string{"name"}},
		NameScaleWorkload:      {tools.Write, []string{"name"}}, // replicas or change_percent: Validate
		NameRestartWorkload:    {tools.Write, []string{"name"}},
		NameRollbackDeployment: {tools.Write, []string{"name"}},
		NameDeletePod:          {tools.Destructive, []string{"name"}},
		NameSetImage:           {tools.Write, []string{"image", "name"}},
		NameSetResources:       {tools.Write, []string{"name"}},
		NameSetEnv:             {tools.Write, []string{"name"}},
		NameExpose:             {tools.Write, []string{"name"}},
		NameAutoscale:          {tools.Write, []string{"cpu_percent", "max_replicas", "min_replicas", "name"}},
		NameResizePVC:          {tools.Write, []string{"name", "size"}},
	}
	if got := reg.Names(); len(got) != len(want) {
		t.Fatalf("registry has %v, want the %d tools %v", got, len(want), want)
	}
	for name, w := range want {
		tool, err := reg.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if tool.Risk() != w.risk {
			t.Errorf("%s risk = %v, want %v", name, tool.Risk(), w.risk)
		}
		s := tool.Schema()
		got := slices.Clone(s.Required)
		slices.Sort(got)
		if !slices.Equal(got, w.required) {
			t.Errorf("%s required = %v, want %v", name, got, w.required)
		}
		for prop, def := range s.Properties {
			if def.Description == "" {
				t.Errorf("%s: argument %q has no description", name, prop)
			}
		}
		if tool.Description() == "" {
			t.Errorf("%s has no description", name)
		}
	}
}

// TestValidation drives each tool's decoding and validation the way the
// gate does. Nothing here reaches a cluster: every case fails (or passes)
// before the tool plans anything.
func TestValidation(t *testing.T) {
	t.Parallel()
	reg := tools.NewRegistry(New(&kube.Clients{})...)
	tests := []struct {
		tool    string
		args    string
		wantErr string // substring; "" means valid
	}{
		{NameScaleWorkload, `{"name":"backend","replicas":3}`, ""},
		{NameScaleWorkload, `{"name":"backend","replicas":0}`, ""},
		{NameScaleWorkload, `{"name":"backend","replicas":1000,"kind":"sts"}`, ""},
		{NameScaleWorkload, `{"name":"backend","replicas":1000000000}`, "replicas must be between 0 and 1000, got 1000000000"},
		{NameScaleWorkload, `{"name":"backend","replicas":1e9}`, "replicas"},
		{NameScaleWorkload, `{"name":"backend","replicas":-1}`, "replicas must be between 0 and 1000"},
		{NameScaleWorkload, `{"name":"backend","replicas":"3"}`, `"replicas" must be of type int`},
		{NameScaleWorkload, `{"name":"backend"}`, "give exactly one of replicas and change_percent"},
		{NameScaleWorkload, `{"name":"backend","replicas":2,"kind":"daemonset"}`, `kind "daemonset" is not supported`},
		{NameScaleWorkload, `{"name":"backend","replicas":2,"timeout_seconds":5000}`, "timeout_seconds must be between 0 and 1800"},
		{NameScaleWorkload, `{"name":"backend","replicas":2,"namespace":"Bad_NS"}`, "not a valid namespace name"},
		{NameScaleWorkload, `{"name":" ","replicas":2}`, "name is required"},
		{NameScaleWorkload, `{"name":"backend","replicas":2,"force":true}`, "unknown argument"},
		{NameListResources, `{"kind":"pods","limit":500}`, ""},
		{NameListResources, `{"kind":"pods","limit":501}`, "limit must be between 0 and 500"},
		{NameListResources, `{"kind":"pods","selector":"app in (a"}`, "not a valid label selector"},
		{NameListResources, `{"kind":""}`, "kind is required"},
		{NamePodLogs, `{"name":"web","tail":2000}`, ""},
		{NamePodLogs, `{"name":"web","tail":2001}`, "tail must be between 0 and 2000"},
		{NameListEvents, `{}`, ""},
		{NameListEvents, `{"kind":"pod"}`, "needs a name"},
		{NameRolloutStatus, `{"name":"web","kind":"ds"}`, ""},
		{NameRolloutStatus, `{"name":"web","kind":"job"}`, `kind "job" is not supported`},
		{NameRestartWorkload, `{"name":"web","kind":"daemonset"}`, ""},
		{NameRollbackDeployment, `{"name":"web","revision":-2}`, "revision must be 0"},
		{NameDeletePod, `{}`, "missing required argument(s) name"},
		{NameGetResource, `{"kind":"secret","name":"x"}`, ""},
	}
	for _, tt := range tests {
		tool, err := reg.Lookup(tt.tool)
		if err != nil {
			t.Fatal(err)
		}
		// Decode into the tool's own args type through its schema.
		err = decodeFor(tt.tool, json.RawMessage(tt.args), tool)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s %s: unexpected error %v", tt.tool, tt.args, err)
		case tt.wantErr != "" && (err == nil || !errors.Is(err, tools.ErrInvalidArgs) || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s %s: error = %v, want ErrInvalidArgs containing %q", tt.tool, tt.args, err, tt.wantErr)
		case tt.wantErr != "":
			// Prepare must refuse before planning: the clients are empty,
			// so any cluster access would panic.
			if _, err := tool.Prepare(t.Context(), json.RawMessage(tt.args)); !errors.Is(err, tools.ErrInvalidArgs) {
				t.Errorf("%s Prepare(%s) error = %v, want ErrInvalidArgs", tt.tool, tt.args, err)
			}
		}
	}
}

// decodeFor decodes raw into a fresh value of the tool's args type.
func decodeFor(name string, raw json.RawMessage, tool tools.Tool) error {
	var v any
	switch name {
	case NameListResources:
		v = &ListResourcesArgs{}
	case NameGetResource:
		v = &GetResourceArgs{}
	case NamePodLogs:
		v = &PodLogsArgs{}
	case NameListEvents:
		v = &ListEventsArgs{}
	case NameRolloutStatus:
		v = &RolloutStatusArgs{}
	case NameScaleWorkload:
		v = &ScaleWorkloadArgs{}
	case NameRestartWorkload:
		v = &RestartWorkloadArgs{}
	case NameRollbackDeployment:
		v = &RollbackDeploymentArgs{}
	case NameDeletePod:
		v = &DeletePodArgs{}
	}
	return tools.DecodeArgs(raw, tool.Schema(), v)
}

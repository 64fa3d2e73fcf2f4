package testcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/opsagent/opsagent/internal/sandbox"
)

// SetPodLogs makes the sandbox serve the given lines as the logs of pod (all
// its containers), and previous as its previous container's logs (`logs
// --previous`), replacing the sandbox's default log. Lines are written in the
// CRI log format kwok reads. Call it before or after the pod exists.
func (e *Env) SetPodLogs(t testing.TB, pod string, current, previous []string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, lines []string) string {
		path := filepath.Join(dir, name)
		var b strings.Builder
		ts := time.Now().UTC()
		for i, l := range lines {
			fmt.Fprintf(&b, "%s stdout F %s\n", ts.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), l)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatalf("write pod log file: %v", err)
		}
		return path
	}
	logEntry := map[string]any{"logsFile": write("current.log", current), "follow": false}
	if previous != nil {
		logEntry["previousLogsFile"] = write("previous.log", previous)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1",
		"kind":       "Logs",
		"metadata":   map[string]any{"name": pod, "namespace": e.Namespace},
		"spec":       map[string]any{"logs": []any{logEntry}},
	}}
	dyn, err := dynamic.NewForConfig(e.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(sandbox.LogsGVR).Namespace(e.Namespace).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create kwok Logs for pod %s: %v (is this the opsagent sandbox?)", pod, err)
	}
}

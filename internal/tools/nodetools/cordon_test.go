package nodetools

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/tools"
)

func TestCordonUncordon(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	nodeRef := "node/" + e.node

	rec := e.mustCall(t, NameCordonNode, map[string]any{"name": e.node})
	if want := nodeRef + ": schedulable → unschedulable (cordoned)"; rec.Preview == nil || rec.Preview.Summary != want {
		t.Errorf("cordon preview = %+v, want %q", rec.Preview, want)
	}
	if rec.Risk != tools.Write || !rec.Changed() {
		t.Errorf("cordon record risk %s changed %v, want a write that ran", rec.Risk, rec.Changed())
	}
	if want := (tools.Target{Kind: "Node", Name: e.node}); !slices.Equal(rec.Preview.Targets, []tools.Target{want}) {
		t.Errorf("targets = %+v, want the cluster-scoped node", rec.Preview.Targets)
	}
	if len(rec.Privileged) == 0 || !strings.Contains(strings.Join(rec.Privileged, ";"), nodeRef) {
		t.Errorf("privileged = %v, want the cluster-scoped node named", rec.Privileged)
	}
	if !e.getNode(t).Spec.Unschedulable {
		t.Fatal("node is schedulable after cordon_node")
	}

	// Again: nothing to do, nothing asked.
	rec = e.mustCall(t, NameCordonNode, map[string]any{"name": e.node})
	if rec.Preview == nil || !rec.Preview.NoChange || rec.Changed() {
		t.Errorf("second cordon = %+v, want NoChange", rec.Preview)
	}

	rec = e.mustCall(t, NameUncordonNode, map[string]any{"name": e.node})
	if want := nodeRef + ": unschedulable (cordoned) → schedulable"; rec.Preview.Summary != want {
		t.Errorf("uncordon preview = %q, want %q", rec.Preview.Summary, want)
	}
	if e.getNode(t).Spec.Unschedulable {
		t.Fatal("node is unschedulable after uncordon_node")
	}
	if rec = e.mustCall(t, NameUncordonNode, map[string]any{"name": e.node}); !rec.Preview.NoChange {
		t.Errorf("second uncordon = %+v, want NoChange", rec.Preview)
	}
}

func TestCordonNeedsPrivilegedApproval(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	// --yes alone does not reach a cluster-scoped node.
	e.gate.Approver = &tools.Policy{AssumeYes: true}
	rec := e.call(t, NameCordonNode, map[string]any{"name": e.node})
	if !errors.Is(rec.Err(), tools.ErrApprovalRequired) || !strings.Contains(rec.Err().Error(), "--allow-privileged") {
		t.Fatalf("error = %v, want ErrApprovalRequired naming --allow-privileged", rec.Err())
	}
	if e.getNode(t).Spec.Unschedulable {
		t.Error("node was cordoned without the privileged opt-in")
	}
}

func TestCordonConflict(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	tool, err := e.gate.Registry.Lookup(NameCordonNode)
	if err != nil {
		t.Fatal(err)
	}
	action, err := tool.Prepare(t.Context(), []byte(`{"name":"`+e.node+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	// Someone changes the node after the preview was shown.
	patch := []byte(`{"metadata":{"labels":{"changed-by":"someone-else"}}}`)
	if _, err := e.Client.CoreV1().Nodes().Patch(t.Context(), e.node, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(t.Context()); !errors.Is(err, tools.ErrConflict) || !strings.Contains(err.Error(), "re-run") {
		t.Fatalf("Run error = %v, want ErrConflict telling to re-run", err)
	}
	if e.getNode(t).Spec.Unschedulable {
		t.Error("node was cordoned although it changed since the preview")
	}
}

func TestNodeToolsBadInput(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	before := e.getNode(t)
	for _, tc := range []struct {
		name string
		tool string
		args string
		want error
	}{
		{"empty name", NameCordonNode, `{"name":""}`, tools.ErrInvalidArgs},
		{"invalid name", NameCordonNode, `{"name":"Not A Node"}`, tools.ErrInvalidArgs},
		{"unknown argument", NameUncordonNode, `{"name":"` + e.node + `","force":true}`, tools.ErrInvalidArgs},
		{"timeout too long", NameDrainNode, `{"name":"` + e.node + `","timeout_seconds":1801}`, tools.ErrInvalidArgs},
		{"negative timeout", NameDrainNode, `{"name":"` + e.node + `","timeout_seconds":-1}`, tools.ErrInvalidArgs},
		{"unknown node", NameDrainNode, `{"name":"no-such-node-` + e.Namespace + `"}`, tools.ErrNotFound},
	} {
		rec := e.gate.Call(t.Context(), tc.tool, []byte(tc.args))
		if !errors.Is(rec.Err(), tc.want) || rec.Preview != nil || rec.Approved {
			t.Errorf("%s: record %+v error %v, want %v and nothing previewed", tc.name, rec, rec.Err(), tc.want)
		}
	}
	if after := e.getNode(t); after.Spec.Unschedulable != before.Spec.Unschedulable {
		t.Errorf("node changed by bad input: unschedulable=%v", after.Spec.Unschedulable)
	}
}

// TestCordonChangedSincePreview: a node's status moves every few seconds
// (heartbeats, conditions), which is no change of what a cordon's preview
// showed; a change of spec.unschedulable by someone else is.
func TestCordonChangedSincePreview(t *testing.T) {
	t.Parallel()
	e := newNodeEnv(t)
	ctx := context.Background()
	c, err := kube.NewClients(e.Getter())
	if err != nil {
		t.Fatal(err)
	}
	nodes := e.Client.CoreV1().Nodes()
	touchStatus := func(t *testing.T) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			n, err := nodes.Get(ctx, e.node, metav1.GetOptions{})
			if err != nil {
				return err
			}
			n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: "opsagent.dev/Touched", Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()})
			_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	act, err := prepareScheduling(ctx, c, e.node, true)
	if err != nil {
		t.Fatal(err)
	}
	touchStatus(t)
	if _, err := act.Run(ctx); err != nil {
		t.Fatalf("cordon after a status-only change: %v", err)
	}
	if !e.getNode(t).Spec.Unschedulable {
		t.Fatal("node is schedulable after cordon_node")
	}

	// Uncordon previewed, then someone else uncordons (and the status moves
	// too): a conflict, for the gate to plan again.
	act, err = prepareScheduling(ctx, c, e.node, false)
	if err != nil {
		t.Fatal(err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, e.node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Spec.Unschedulable = false
		_, err = nodes.Update(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	touchStatus(t)
	if _, err := act.Run(ctx); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("uncordon after someone else uncordoned: %v, want tools.ErrConflict", err)
	}
}

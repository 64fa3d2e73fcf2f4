package diagnose

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const simNodeLabel = "sim.opsagent.dev/node-state"

// TestNodeAnalyzer creates its own simulated nodes (kwok manages every node
// annotated kwok.x-k8s.io/node=fake) instead of breaking the sandbox's shared
// node: they carry a NoSchedule taint no workload tolerates, so no other
// test's pod lands on them, and they are deleted when the test ends.
func TestNodeAnalyzer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	tests := []struct {
		suffix   string
		state    string
		cordon   bool
		rule     string // "" means healthy
		severity Severity
		want     []string
		wantFix  string
	}{
		{suffix: "notready", state: "NotReady", rule: RuleNodeNotReady, severity: Critical, want: []string{"is NotReady (KubeletNotReady)", "PLEG is not healthy"}, wantFix: "kubectl drain"},
		{suffix: "memory", state: "MemoryPressure", rule: RuleNodePressure, severity: Warning, want: []string{"has MemoryPressure", "short of memory"}},
		{suffix: "disk", state: "DiskPressure", rule: RuleNodePressure, severity: Warning, want: []string{"has DiskPressure"}},
		{suffix: "cordoned", cordon: true, rule: RuleNodeCordoned, severity: Warning, want: []string{"is cordoned"}, wantFix: "kubectl uncordon"},
		{suffix: "healthy"},
	}
	names := map[string]string{}
	for _, tc := range tests {
		name := fmt.Sprintf("%s-%s", e.Namespace, tc.suffix)
		names[tc.suffix] = name
		e.createNode(t, name, tc.state, tc.cordon)
	}
	o := Options{AllNamespaces: true, Kinds: []string{"Node"}}
	rep := e.waitFor(t, o, "the simulated node conditions", func(r *Report) bool {
		for _, tc := range tests {
			if _, ok := findingFor(r, tc.rule, names[tc.suffix]); tc.rule != "" && !ok {
				return false
			}
		}
		return true
	})
	for _, tc := range tests {
		t.Run(tc.suffix, func(t *testing.T) {
			var mine []Finding
			for _, g := range rep.Groups {
				for _, f := range g.Findings {
					if f.Object.Name == names[tc.suffix] {
						mine = append(mine, f)
					}
				}
			}
			if tc.rule == "" {
				if len(mine) > 0 {
					t.Fatalf("healthy node reported: %+v", mine)
				}
				return
			}
			if len(mine) != 1 || mine[0].Rule != tc.rule || mine[0].Severity != tc.severity {
				t.Fatalf("findings for node %s = %+v, want one %s (%s)", names[tc.suffix], mine, tc.rule, tc.severity)
			}
			mustContain(t, "finding", allText(mine[0]), tc.want...)
			if tc.wantFix != "" && !hasFix(mine[0], tc.wantFix) {
				t.Errorf("no fix with %q: %+v", tc.wantFix, mine[0].Fixes)
			}
		})
	}
}

func (e *testEnv) createNode(t *testing.T, name, state string, cordon bool) {
	t.Helper()
	labels := map[string]string{"opsagent.dev/test": "true", "kubernetes.io/hostname": name}
	if state != "" {
		labels[simNodeLabel] = state
	}
	capacity := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("10")}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}},
		Spec:       corev1.NodeSpec{Unschedulable: cordon, Taints: []corev1.Taint{{Key: "opsagent.dev/test", Value: "diagnose", Effect: corev1.TaintEffectNoSchedule}}},
		Status:     corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	if _, err := e.Client.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	t.Cleanup(func() {
		err := e.Client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete node %s: %v", name, err)
		}
	})
}

package diagnose

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestReplicaSetFailedCreate: a ResourceQuota refuses the ReplicaSet's pods;
// the finding names the quota, sits under the Deployment, and tells how to
// see the quota.
func TestReplicaSetFailedCreate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, err := e.Client.CoreV1().ResourceQuotas(e.Namespace).Create(context.Background(), &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "pods"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.createDeployment(t, deploymentObj("quota", 3, nil, podSpec(ctr("app", "busybox"))))
	f, rep := e.waitRule(t, Options{Kinds: []string{"ReplicaSet"}}, RuleReplicaSetFailedCreate, "quota-")
	mustContain(t, "finding", allText(f), "exceeded quota", "ResourceQuota", "FailedCreate")
	if !hasFix(f, "kubectl describe resourcequota -n "+e.Namespace) {
		t.Errorf("no quota fix: %+v", f.Fixes)
	}
	if g, _ := groupOf(rep, RuleReplicaSetFailedCreate, f.Object.Name); g.Object.Kind != "Deployment" || g.Object.Name != "quota" {
		t.Errorf("grouped under %s, want Deployment quota", g.Object)
	}
}

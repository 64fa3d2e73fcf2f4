package tools

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestClassifyObject(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     []string // substrings, one per expected reason; none = not privileged
	}{
		{name: "plain deployment", manifest: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: app, image: nginx, ports: [{containerPort: 80}]}]`},
		{name: "configmap", manifest: `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {hostNetwork: "true"}}`},
		{name: "role", manifest: `{apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: r}}`, want: []string{"role/r: an RBAC Role"}},
		{name: "cluster role binding", manifest: `{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: admin}}`, want: []string{"clusterrolebinding/admin"}},
		{name: "webhook", manifest: `{apiVersion: admissionregistration.k8s.io/v1, kind: MutatingWebhookConfiguration, metadata: {name: w}}`, want: []string{"admission webhook"}},
		{name: "crd", manifest: `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: x.example.com}}`, want: []string{"CustomResourceDefinition"}},
		{name: "pod security label", manifest: `{apiVersion: v1, kind: Namespace, metadata: {name: n, labels: {pod-security.kubernetes.io/enforce: privileged}}}`, want: []string{"pod-security.kubernetes.io/enforce"}},
		{name: "plain namespace", manifest: `{apiVersion: v1, kind: Namespace, metadata: {name: n, labels: {team: a}}}`},
		{name: "token secret", manifest: `{apiVersion: v1, kind: Secret, metadata: {name: t}, type: kubernetes.io/service-account-token}`, want: []string{"ServiceAccount token"}},
		{name: "opaque secret", manifest: `{apiVersion: v1, kind: Secret, metadata: {name: t}, type: Opaque}`},
		{name: "privileged pod", manifest: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostPID: true
  volumes: [{name: root, hostPath: {path: /}}]
  containers: [{name: c, image: x, securityContext: {privileged: true}}]`, want: []string{"hostPID", "node's path /", "container c privileged"}},
		{name: "daemonset with host network", manifest: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: d}
spec: {template: {spec: {hostNetwork: true, containers: [{name: c, image: x}]}}}`, want: []string{"its pods use hostNetwork"}},
		{name: "cronjob with host port and capabilities", manifest: `
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: x, ports: [{containerPort: 80, hostPort: 80}], securityContext: {capabilities: {add: [NET_ADMIN]}}}]}}}}}`,
			want: []string{"host port 80", "NET_ADMIN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(tt.manifest), &obj); err != nil {
				t.Fatal(err)
			}
			got := ClassifyObject(&unstructured.Unstructured{Object: obj})
			if len(got) != len(tt.want) {
				t.Fatalf("reasons = %q, want %d matching %q", got, len(tt.want), tt.want)
			}
			joined := strings.Join(got, "\n")
			for _, w := range tt.want {
				if !strings.Contains(joined, w) {
					t.Errorf("reasons %q lack %q", got, w)
				}
			}
		})
	}
}

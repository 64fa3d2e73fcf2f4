package kubetools

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/restmapper"

	"github.com/opsagent/opsagent/internal/tools"
)

func group(name, version string, res ...metav1.APIResource) *restmapper.APIGroupResources {
	return &restmapper.APIGroupResources{
		Group: metav1.APIGroup{
			Name:             name,
			Versions:         []metav1.GroupVersionForDiscovery{{GroupVersion: schema.GroupVersion{Group: name, Version: version}.String(), Version: version}},
			PreferredVersion: metav1.GroupVersionForDiscovery{GroupVersion: schema.GroupVersion{Group: name, Version: version}.String(), Version: version},
		},
		VersionedResources: map[string][]metav1.APIResource{version: res},
	}
}

func res(name, singular, kind string, namespaced bool) metav1.APIResource {
	return metav1.APIResource{Name: name, SingularName: singular, Kind: kind, Namespaced: namespaced, Verbs: metav1.Verbs{"get", "list"}}
}

func TestResolveKind(t *testing.T) {
	t.Parallel()
	mapper := restmapper.NewDiscoveryRESTMapper([]*restmapper.APIGroupResources{
		group("", "v1",
			res("pods", "pod", "Pod", true), res("services", "service", "Service", true),
			res("nodes", "node", "Node", false), res("events", "event", "Event", true),
			res("persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true),
			res("namespaces", "namespace", "Namespace", false), res("secrets", "secret", "Secret", true)),
		group("apps", "v1", res("deployments", "deployment", "Deployment", true), res("statefulsets", "statefulset", "StatefulSet", true)),
		group("events.k8s.io", "v1", res("events", "event", "Event", true)),
		group("autoscaling", "v2", res("horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true)),
		group("example.com", "v1", res("widgets", "widget", "Widget", true)),
	})
	tests := []struct {
		in         string
		want       schema.GroupVersionResource
		namespaced bool
		wantErr    error
	}{
		{in: "pods", want: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, namespaced: true},
		{in: "pod", want: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, namespaced: true},
		{in: "po", want: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, namespaced: true},
		{in: "Pod", want: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, namespaced: true},
		{in: "deploy", want: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, namespaced: true},
		{in: "Deployment", want: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, namespaced: true},
		{in: "deployments.apps", want: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, namespaced: true},
		{in: "sts", want: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, namespaced: true},
		{in: "svc", want: schema.GroupVersionResource{Version: "v1", Resource: "services"}, namespaced: true},
		{in: "pvc", want: schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, namespaced: true},
		{in: "no", want: schema.GroupVersionResource{Version: "v1", Resource: "nodes"}},
		{in: "ns", want: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}},
		{in: "hpa", want: schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}, namespaced: true},
		// Core events, although events.k8s.io serves the same name.
		{in: "events", want: schema.GroupVersionResource{Version: "v1", Resource: "events"}, namespaced: true},
		{in: "widget", want: schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}, namespaced: true},
		{in: "gizmos", wantErr: tools.ErrNotFound},
	}
	for _, tt := range tests {
		got, err := ResolveKind(mapper, tt.in)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ResolveKind(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ResolveKind(%q): %v", tt.in, err)
			continue
		}
		if got.GVR != tt.want || got.Namespaced != tt.namespaced {
			t.Errorf("ResolveKind(%q) = %v namespaced=%v, want %v namespaced=%v", tt.in, got.GVR, got.Namespaced, tt.want, tt.namespaced)
		}
	}
}

func TestParseWorkloadKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		allowed []workloadKind
		want    workloadKind
		wantErr bool
	}{
		{in: "", allowed: scaleKinds, want: ""},
		{in: "deploy", allowed: scaleKinds, want: kindDeployment},
		{in: "Deployments", allowed: scaleKinds, want: kindDeployment},
		{in: "sts", allowed: scaleKinds, want: kindStatefulSet},
		{in: "statefulsets.apps", allowed: scaleKinds, want: kindStatefulSet},
		{in: "ds", allowed: rolloutKinds, want: kindDaemonSet},
		{in: "ds", allowed: scaleKinds, wantErr: true},
		{in: "pod", allowed: rolloutKinds, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseWorkloadKind(tt.in, tt.allowed)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseWorkloadKind(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

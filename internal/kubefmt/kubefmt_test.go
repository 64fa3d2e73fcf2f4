package kubefmt

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestProbe(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name  string
		probe *corev1.Probe
		want  string
	}{
		{"nil", nil, ""},
		{"http with defaults", &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}},
			"HTTP GET :8080/healthz, delay 0s, period 10s, timeout 1s, failure threshold 3"},
		{"https, no path, named port", &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("web"), Scheme: corev1.URISchemeHTTPS}},
			InitialDelaySeconds: 5, PeriodSeconds: 3, TimeoutSeconds: 2, FailureThreshold: 6},
			"HTTPS GET :web/, delay 5s, period 3s, timeout 2s, failure threshold 6"},
		{"tcp", &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(5432)}}},
			"TCP :5432, delay 0s, period 10s, timeout 1s, failure threshold 3"},
		{"grpc", &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}}},
			"gRPC :9090, delay 0s, period 10s, timeout 1s, failure threshold 3"},
		{"exec, cut", &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", long}}}},
			"exec sh -c " + strings.Repeat("x", 74) + "…, delay 0s, period 10s, timeout 1s, failure threshold 3"},
		{"no handler", &corev1.Probe{}, "(no handler), delay 0s, period 10s, timeout 1s, failure threshold 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Probe(tt.probe); got != tt.want {
				t.Errorf("Probe() = %q\n             want %q", got, tt.want)
			}
		})
	}
}

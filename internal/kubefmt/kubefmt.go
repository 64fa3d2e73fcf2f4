// Package kubefmt writes parts of Kubernetes objects as the one-line text
// people and models read: the same words wherever an object is shown
// (get_resource's containers, diagnose's evidence), so that what a tool
// shows and what a diagnosis cites can be matched.
package kubefmt

import (
	"cmp"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/opsagent/opsagent/internal/redact"
)

// maxExecLen bounds an exec probe's command line.
const maxExecLen = 80

// Probe describes a probe: its handler and timings, e.g. "HTTP GET
// :8080/healthz, delay 5s, period 10s, timeout 1s, failure threshold 3".
// Timings left unset show Kubernetes' defaults (a probe read from the API
// server has them filled in; one from a manifest or a template may not).
// A nil probe is "".
func Probe(p *corev1.Probe) string {
	if p == nil {
		return ""
	}
	var what string
	switch h := p.ProbeHandler; {
	case h.HTTPGet != nil:
		scheme := "HTTP"
		if h.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			scheme = "HTTPS"
		}
		what = fmt.Sprintf("%s GET :%s%s", scheme, h.HTTPGet.Port.String(), cmp.Or(h.HTTPGet.Path, "/"))
	case h.TCPSocket != nil:
		what = "TCP :" + h.TCPSocket.Port.String()
	case h.GRPC != nil:
		what = fmt.Sprintf("gRPC :%d", h.GRPC.Port)
	case h.Exec != nil:
		what = "exec " + cut(strings.Join(h.Exec.Command, " "), maxExecLen)
	default:
		what = "(no handler)"
	}
	return fmt.Sprintf("%s, delay %ds, period %ds, timeout %ds, failure threshold %d", what,
		p.InitialDelaySeconds, cmp.Or(p.PeriodSeconds, 10), cmp.Or(p.TimeoutSeconds, 1), cmp.Or(p.FailureThreshold, 3))
}

// cut shortens s to at most n bytes (rune-safe) and marks the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return redact.Truncate(s, n) + "…"
}

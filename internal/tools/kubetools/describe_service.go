package kubetools

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/opsagent/opsagent/internal/kube"
)

// ServiceDetail answers "does this service reach any pod".
type ServiceDetail struct {
	Type        string   `json:"type"`
	ClusterIP   string   `json:"clusterIP,omitempty"`
	ExternalIPs []string `json:"externalIPs,omitempty"`
	// Ports are "name port→targetPort/protocol" (with ",nodePort N").
	Ports             []string `json:"ports"`
	Selector          string   `json:"selector,omitempty"`
	ReadyEndpoints    int      `json:"readyEndpoints"`
	NotReadyEndpoints int      `json:"notReadyEndpoints"`
	// Endpoints are a few ready addresses with the pod behind each.
	Endpoints []string `json:"endpoints,omitempty"`
	Note      string   `json:"note,omitempty"`
}

const maxEndpointsShown = 10

func describeService(ctx context.Context, c *kube.Clients, s *corev1.Service) (*ServiceDetail, error) {
	row := serviceRow(s)
	d := &ServiceDetail{Type: string(s.Spec.Type), ClusterIP: s.Spec.ClusterIP, Selector: selectorString(s.Spec.Selector), Ports: []string{}}
	if row.ExternalIP != "<none>" {
		d.ExternalIPs = []string{row.ExternalIP}
	}
	for _, p := range s.Spec.Ports {
		port := fmt.Sprintf("%d→%s/%s", p.Port, p.TargetPort.String(), p.Protocol)
		if p.Name != "" {
			port = p.Name + " " + port
		}
		if p.NodePort != 0 {
			port += fmt.Sprintf(",nodePort %d", p.NodePort)
		}
		d.Ports = append(d.Ports, port)
	}
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		d.Note = "ExternalName service: a DNS alias for " + s.Spec.ExternalName + ", without endpoints"
		return d, nil
	}
	eps, err := c.Typed.DiscoveryV1().EndpointSlices(s.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{discoveryv1.LabelServiceName: s.Name}.String(), Limit: maxListLimit,
	})
	if err != nil {
		return nil, fmt.Errorf("list endpoints of service %s/%s: %w", s.Namespace, s.Name, err)
	}
	seen := map[string]bool{}
	for _, sl := range eps.Items {
		for _, ep := range sl.Endpoints {
			if len(ep.Addresses) == 0 || seen[ep.Addresses[0]] {
				continue
			}
			seen[ep.Addresses[0]] = true
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				d.NotReadyEndpoints++
				continue
			}
			d.ReadyEndpoints++
			if len(d.Endpoints) < maxEndpointsShown {
				e := ep.Addresses[0]
				if ep.TargetRef != nil {
					e += " (" + ep.TargetRef.Kind + "/" + ep.TargetRef.Name + ")"
				}
				d.Endpoints = append(d.Endpoints, e)
			}
		}
	}
	if d.ReadyEndpoints == 0 && len(s.Spec.Selector) > 0 {
		pods, err := listPods(ctx, c, s.Namespace, labels.SelectorFromSet(s.Spec.Selector))
		switch {
		case err != nil:
			d.Note = "no ready endpoints"
		case len(pods) == 0:
			d.Note = fmt.Sprintf("no ready endpoints: no pod in %s matches the selector %s; compare it with the pods' labels", s.Namespace, d.Selector)
		default:
			d.Note = fmt.Sprintf("no ready endpoints: %d pods match the selector but none is ready; look at those pods", len(pods))
		}
	}
	return d, nil
}

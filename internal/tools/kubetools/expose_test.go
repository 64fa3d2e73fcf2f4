package kubetools

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/tools"
)

func (e *clusterEnv) getService(t *testing.T, name string) *corev1.Service {
	t.Helper()
	s, err := e.Client.CoreV1().Services(e.Namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get service %s: %v", name, err)
	}
	return s
}

func serviceTarget(e *clusterEnv, name string) tools.Target {
	return tools.Target{Kind: "Service", Namespace: e.Namespace, Name: name}
}

func TestExposeTakesPortsFromThePods(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1, containers: []corev1.Container{{
		Name: "app", Image: "registry.example/web:1.0",
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {ContainerPort: 9090}},
	}}})

	rec := e.mustCall(t, NameExpose, map[string]any{"name": "web"})
	wantPreview(t, rec, "service/web in "+e.Namespace+": create ClusterIP selecting app=web (pods of deployment/web), ports http 8080→8080/TCP, tcp-9090 9090→9090/TCP",
		tools.Write, serviceTarget(e, "web"))
	s := e.getService(t, "web")
	if !maps.Equal(s.Spec.Selector, map[string]string{"app": "web"}) || s.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("service selector %v type %s, want app=web ClusterIP", s.Spec.Selector, s.Spec.Type)
	}
	if len(s.Spec.Ports) != 2 || s.Spec.Ports[0].Port != 8080 || s.Spec.Ports[0].TargetPort != intstr.FromInt(8080) ||
		s.Spec.Ports[0].Name != "http" || s.Spec.Ports[1].Port != 9090 || s.Spec.Ports[1].Name != "tcp-9090" {
		t.Errorf("service ports = %+v", s.Spec.Ports)
	}
	if res := resultAs[ExposeResult](t, rec); !res.Created || res.ClusterIP == "" {
		t.Errorf("result = %+v, want created with a cluster IP", res)
	}

	wantNoChange(t, e.call(t, NameExpose, map[string]any{"name": "web"}))
}

func TestExposeOnAPort(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "frontend", replicas: 1, containers: []corev1.Container{{
		Name: "app", Image: "registry.example/frontend:1.0", Ports: []corev1.ContainerPort{{ContainerPort: 3000}},
	}}})

	// "Expose the frontend on port 80": the pod's only port is the target.
	rec := e.mustCall(t, NameExpose, map[string]any{"name": "frontend", "port": 80, "type": "NodePort"})
	wantPreview(t, rec, "service/frontend in "+e.Namespace+": create NodePort selecting app=frontend (pods of deployment/frontend), ports 80→3000/TCP",
		tools.Write, serviceTarget(e, "frontend"))
	s := e.getService(t, "frontend")
	if s.Spec.Type != corev1.ServiceTypeNodePort || len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != 80 ||
		s.Spec.Ports[0].TargetPort != intstr.FromInt(3000) || s.Spec.Ports[0].NodePort == 0 {
		t.Fatalf("service = %s %+v, want NodePort 80→3000 with a node port", s.Spec.Type, s.Spec.Ports)
	}
	nodePort := s.Spec.Ports[0].NodePort

	// Changing the target port updates the Service in place and keeps the
	// node port clients may use.
	rec = e.mustCall(t, NameExpose, map[string]any{"name": "frontend", "port": 80, "target_port": 3001, "type": "NodePort"})
	wantPreview(t, rec, "service/frontend in "+e.Namespace+": update: ports 80→3000/TCP (node port "+itoa(int(nodePort))+") → 80→3001/TCP",
		tools.Write, serviceTarget(e, "frontend"))
	s = e.getService(t, "frontend")
	if p := s.Spec.Ports[0]; p.TargetPort != intstr.FromInt(3001) || p.NodePort != nodePort {
		t.Errorf("port after update = %+v, want target 3001 and node port %d kept", p, nodePort)
	}
	if res := resultAs[ExposeResult](t, rec); res.Created {
		t.Errorf("result = %+v, want an update", res)
	}
}

func TestExposeRefusals(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1})
	ctx := t.Context()

	// No container port declared and none given.
	wantRefused(t, e.call(t, NameExpose, map[string]any{"name": "web"}), tools.ErrInvalidArgs, "declare no containerPort", "give port")

	// A Service of that name selecting other pods is not taken over.
	other := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "legacy"}, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := e.Client.CoreV1().Services(e.Namespace).Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec := e.call(t, NameExpose, map[string]any{"name": "web", "port": 80})
	if err := rec.Err(); err == nil || rec.Approved || !strings.Contains(err.Error(), "already exists and selects app=legacy") || !strings.Contains(err.Error(), "service_name") {
		t.Errorf("error = %v, want a refusal naming the other selector", err)
	}
	if s := e.getService(t, "web"); s.Spec.Selector["app"] != "legacy" {
		t.Errorf("the other Service was changed: %v", s.Spec.Selector)
	}

	// A selector with expressions cannot become a Service selector.
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "canary"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"canary"}}}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "canary"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/web:1.0"}}},
			},
		},
	}
	if _, err := e.Client.AppsV1().Deployments(e.Namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, e.call(t, NameExpose, map[string]any{"name": "canary", "port": 80}), tools.ErrInvalidArgs, "without matchLabels")

	for _, args := range []map[string]any{
		{"name": "web", "port": 70000},
		{"name": "web", "port": 80, "type": "Ingress"},
		{"name": "web", "port": 80, "service_name": "Web_Public"},
		{"name": "web", "target_port": -1},
	} {
		wantRefused(t, e.call(t, NameExpose, args), tools.ErrInvalidArgs)
	}
	l, err := e.Client.CoreV1().Services(e.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil || len(l.Items) != 1 {
		t.Errorf("services after refusals: %d (%v), want only the pre-existing one", len(l.Items), err)
	}
}

// A Service created by someone else between the preview and the run of a
// create is a conflict.
func TestExposeConflict(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	e.createDeployment(t, deploySpec{name: "web", replicas: 1})
	ctx := t.Context()

	action := e.prepare(t, NameExpose, map[string]any{"name": "web", "port": 80})
	rival := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 8080}}},
	}
	if _, err := e.Client.CoreV1().Services(e.Namespace).Create(ctx, rival, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.Run(ctx); !errors.Is(err, tools.ErrConflict) {
		t.Fatalf("create after a rival: Run error = %v, want ErrConflict", err)
	}
	if p := e.getService(t, "web").Spec.Ports; len(p) != 1 || p[0].Port != 8080 {
		t.Errorf("ports = %+v, want the rival's 8080 kept", p)
	}
}

// Between the preview and the run of an update, a change of the Service's
// spec, labels or annotations is a conflict; a status update is not.
func TestExposeChangedSincePreview(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	svcs := e.Client.CoreV1().Services(e.Namespace)
	tests := []struct {
		name      string
		meanwhile func(t *testing.T, svc string)
		wantErr   error
		wantPort  int32
	}{
		{name: "status only", meanwhile: func(t *testing.T, svc string) {
			touchObjectStatus(t, svcs, svc, func(s *corev1.Service) {
				s.Status.Conditions = append(s.Status.Conditions, metav1.Condition{
					Type: touchedCondition, Status: metav1.ConditionTrue, Reason: "StatusOnly", LastTransitionTime: metav1.Now(),
				})
			})
		}, wantPort: 80},
		{name: "labels", meanwhile: func(t *testing.T, svc string) {
			updateObject(t, svcs, svc, func(s *corev1.Service) { s.Labels = map[string]string{"changed-by": "someone-else"} })
		}, wantErr: tools.ErrConflict, wantPort: 8080},
		{name: "ports changed by someone else", meanwhile: func(t *testing.T, svc string) {
			updateObject(t, svcs, svc, func(s *corev1.Service) { s.Spec.Ports[0].Port = 8081 })
		}, wantErr: tools.ErrConflict, wantPort: 8081},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := fmt.Sprintf("web-%d", i)
			e.createDeployment(t, deploySpec{name: name, replicas: 1})
			existing := &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 8080}}},
			}
			if _, err := svcs.Create(t.Context(), existing, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			action := e.prepare(t, NameExpose, map[string]any{"name": name, "port": 80})
			tt.meanwhile(t, name)

			_, err := action.Run(t.Context())
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), "re-run")) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			if p := e.getService(t, name).Spec.Ports; len(p) != 1 || p[0].Port != tt.wantPort {
				t.Errorf("ports after the run = %+v, want %d", p, tt.wantPort)
			}
		})
	}
}

func TestServicePorts(t *testing.T) {
	t.Parallel()
	ref := workloadRef{Kind: kindDeployment, Name: "web", Namespace: "ns"}
	pod := func(ports ...corev1.ContainerPort) *corev1.PodSpec {
		return &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Ports: ports}}}
	}
	http := corev1.ContainerPort{Name: "http", ContainerPort: 8080}
	dns := corev1.ContainerPort{ContainerPort: 53, Protocol: corev1.ProtocolUDP}
	tests := []struct {
		name         string
		spec         *corev1.PodSpec
		port, target int
		want         string
		wantErr      bool
	}{
		{name: "one declared, named", spec: pod(http), want: "http 8080→8080/TCP"},
		{name: "several declared", spec: pod(http, dns), want: "http 8080→8080/TCP, udp-53 53→53/UDP"},
		{name: "port onto the only one", spec: pod(http), port: 80, want: "80→8080/TCP"},
		{name: "port matching one of several", spec: pod(http, dns), port: 53, want: "53→53/UDP"},
		{name: "port matching none of several", spec: pod(http, dns), port: 80, wantErr: true},
		{name: "explicit target", spec: pod(http, dns), port: 80, target: 8081, want: "80→8081/TCP"},
		{name: "target only", spec: pod(), target: 9000, want: "9000→9000/TCP"},
		{name: "nothing declared, port given", spec: pod(), port: 80, want: "80→80/TCP"},
		{name: "nothing declared or given", spec: pod(), wantErr: true},
	}
	for _, tt := range tests {
		got, err := servicePorts(ref, tt.spec, tt.port, tt.target)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: error = %v, want error %v", tt.name, err, tt.wantErr)
			continue
		}
		if err == nil && portsString(got) != tt.want {
			t.Errorf("%s: ports %s, want %s", tt.name, portsString(got), tt.want)
		}
	}
}

package preflight

import (
	"context"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/strvals"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/opsagent/opsagent/charts"
	"github.com/opsagent/opsagent/internal/testcluster"
)

func requirements(t *testing.T, sets ...string) Requirements {
	t.Helper()
	ch, err := charts.TodoChatbot()
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]any{}
	for _, s := range sets {
		if err := strvals.ParseInto(s, vals); err != nil {
			t.Fatal(err)
		}
	}
	req, err := RequirementsFor(ch, vals, "")
	if err != nil {
		t.Fatalf("RequirementsFor: %v", err)
	}
	return req
}

func result(t *testing.T, r Report, name string) Result {
	t.Helper()
	i := slices.IndexFunc(r.Checks, func(c Result) bool { return c.Name == name })
	if i < 0 {
		t.Fatalf("no check %s in %+v", name, r.Checks)
	}
	return r.Checks[i]
}

func TestRequirementsForDefaults(t *testing.T) {
	t.Parallel()
	req := requirements(t)
	// values.yaml: frontend 50m/64Mi, backend 100m/256Mi (its 10m/16Mi
	// init container is smaller, so it does not count), postgres 100m/256Mi.
	if want := resource.MustParse("250m"); req.CPU.Cmp(want) != 0 {
		t.Errorf("CPU = %s, want %s (workloads %v)", req.CPU.String(), want.String(), req.Workloads)
	}
	if want := resource.MustParse("576Mi"); req.Memory.Cmp(want) != 0 {
		t.Errorf("Memory = %s, want %s", req.Memory.String(), want.String())
	}
	if req.KubeVersion == "" {
		t.Error("KubeVersion not read from Chart.yaml")
	}
	if !slices.Equal(req.StorageClasses, []string{"standard"}) {
		t.Errorf("StorageClasses = %q", req.StorageClasses)
	}
	if !slices.Equal(req.IngressClasses, []string{"nginx"}) {
		t.Errorf("IngressClasses = %q", req.IngressClasses)
	}
}

func TestRequirementsForValues(t *testing.T) {
	t.Parallel()
	req := requirements(t, "frontend.replicaCount=3,ingress.enabled=false,postgresql.persistence.enabled=false")
	if want := resource.MustParse("350m"); req.CPU.Cmp(want) != 0 {
		t.Errorf("CPU = %s, want %s", req.CPU.String(), want.String())
	}
	if len(req.StorageClasses) != 0 || len(req.IngressClasses) != 0 {
		t.Errorf("StorageClasses %q, IngressClasses %q; want none", req.StorageClasses, req.IngressClasses)
	}
}

func TestPodRequests(t *testing.T) {
	t.Parallel()
	always := corev1.ContainerRestartPolicyAlways
	res := func(cpu, mem string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem),
		}}
	}
	tests := []struct {
		name             string
		spec             corev1.PodSpec
		wantCPU, wantMem string
	}{
		{"containers add up", corev1.PodSpec{Containers: []corev1.Container{{Resources: res("100m", "64Mi")}, {Resources: res("50m", "32Mi")}}}, "150m", "96Mi"},
		{"bigger init container wins", corev1.PodSpec{
			InitContainers: []corev1.Container{{Resources: res("500m", "16Mi")}},
			Containers:     []corev1.Container{{Resources: res("100m", "64Mi")}},
		}, "500m", "64Mi"},
		{"sidecar init container adds", corev1.PodSpec{
			InitContainers: []corev1.Container{{RestartPolicy: &always, Resources: res("10m", "8Mi")}},
			Containers:     []corev1.Container{{Resources: res("100m", "64Mi")}},
		}, "110m", "72Mi"},
		{"no requests", corev1.PodSpec{Containers: []corev1.Container{{}}}, "0", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cpu, mem := podRequests(tt.spec)
			if cpu.Cmp(resource.MustParse(tt.wantCPU)) != 0 || mem.Cmp(resource.MustParse(tt.wantMem)) != 0 {
				t.Errorf("podRequests = %s, %s; want %s, %s", cpu.String(), mem.String(), tt.wantCPU, tt.wantMem)
			}
		})
	}
}

// The rest runs against the real sandbox: Gather reads it, and failures are
// made by editing the gathered snapshot, never the shared cluster.

func gather(t *testing.T) *Snapshot {
	t.Helper()
	env := testcluster.New(t)
	snap, err := Gather(context.Background(), env.Client)
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	return snap
}

func TestPreflightPassesOnSandbox(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	ch, err := charts.TodoChatbot()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), env.Client, ch, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		t.Fatalf("preflight failed on the sandbox: %+v", rep.Checks)
	}
	if len(rep.Checks) != 5 {
		t.Errorf("got %d checks, want 5: %+v", len(rep.Checks), rep.Checks)
	}
}

func TestPreflightStorageClassMissing(t *testing.T) {
	t.Parallel()
	snap := gather(t)
	tests := []struct {
		name       string
		sets       []string
		edit       func([]storagev1.StorageClass) []storagev1.StorageClass
		wantDetail string
	}{
		{
			name: "named class standard absent",
			edit: func(scs []storagev1.StorageClass) []storagev1.StorageClass {
				return slices.DeleteFunc(scs, func(sc storagev1.StorageClass) bool { return sc.Name == "standard" })
			},
			wantDetail: "missing StorageClass standard",
		},
		{
			name: "no default class, chart relies on the default",
			sets: []string{"postgresql.persistence.storageClass="},
			edit: func(scs []storagev1.StorageClass) []storagev1.StorageClass {
				for i := range scs {
					scs[i].Annotations = nil
				}
				return scs
			},
			wantDetail: "missing a default StorageClass",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := *snap
			s.StorageClasses = tt.edit(slices.Clone(snap.StorageClasses))
			rep := Evaluate(&s, requirements(t, tt.sets...))
			if rep.Passed {
				t.Fatal("preflight passed without a usable StorageClass")
			}
			got := result(t, rep, CheckStorageClass)
			if got.OK || !strings.Contains(got.Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", got.Detail, tt.wantDetail)
			}
			if !strings.Contains(got.Fix, "minikube addons enable default-storageclass storage-provisioner") {
				t.Errorf("fix = %q, want the minikube addons command", got.Fix)
			}
			if other := result(t, rep, CheckResources); !other.OK {
				t.Errorf("resources failed too: %+v", other)
			}
		})
	}
}

func TestPreflightInsufficientResources(t *testing.T) {
	t.Parallel()
	snap := gather(t)
	rep := Evaluate(snap, requirements(t, "frontend.replicaCount=100000"))
	got := result(t, rep, CheckResources)
	if rep.Passed || got.OK {
		t.Fatalf("100000 frontend replicas fit: %+v", got)
	}
	if !strings.Contains(got.Detail, "not enough CPU and memory") {
		t.Errorf("detail = %q", got.Detail)
	}
	if !strings.Contains(got.Fix, "minikube start --cpus") {
		t.Errorf("fix = %q", got.Fix)
	}
}

func TestPreflightIngressClassMissing(t *testing.T) {
	t.Parallel()
	snap := gather(t)
	s := *snap
	s.IngressClasses = nil
	rep := Evaluate(&s, requirements(t))
	got := result(t, rep, CheckIngressClass)
	if got.OK || !strings.Contains(got.Fix, "minikube addons enable ingress") {
		t.Errorf("ingress check = %+v", got)
	}
	if off := Evaluate(&s, requirements(t, "ingress.enabled=false")); !result(t, off, CheckIngressClass).OK {
		t.Errorf("ingress disabled still needs an IngressClass: %+v", off.Checks)
	}
}

func TestPreflightVersionTooOld(t *testing.T) {
	t.Parallel()
	snap := gather(t)
	s := *snap
	s.ServerVersion = "v1.25.3"
	got := result(t, Evaluate(&s, requirements(t)), CheckVersion)
	if got.OK || !strings.Contains(got.Detail, "does not satisfy") {
		t.Errorf("version check = %+v", got)
	}
}

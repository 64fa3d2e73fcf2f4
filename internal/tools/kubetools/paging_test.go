package kubetools

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opsagent/opsagent/internal/kube"
	"github.com/opsagent/opsagent/internal/testcluster"
	"github.com/opsagent/opsagent/internal/tools"
)

// recordedClients returns a copy of c whose requests rec records.
func recordedClients(t *testing.T, rec *testcluster.Recorder, c *kube.Clients) *kube.Clients {
	t.Helper()
	recorded, err := kube.ForConfig(rec.Wrap(c.Config))
	if err != nil {
		t.Fatal(err)
	}
	out := *c
	out.Config, out.Typed, out.Dynamic, out.Metadata = recorded.Config, recorded.Typed, recorded.Dynamic, recorded.Metadata
	return &out
}

// wantMetadataPages checks that the LISTs to path were at least pages
// requests, each for metadata only with limit=page.
func wantMetadataPages(t *testing.T, rec *testcluster.Recorder, path string, page, pages int) {
	t.Helper()
	got := rec.Lists(path)
	if len(got) < pages {
		t.Errorf("%d LISTs of %s, want at least %d pages of %d: %v", len(got), path, pages, page, got)
	}
	for _, q := range got {
		if !strings.Contains(q.Query, fmt.Sprintf("limit=%d", page)) {
			t.Errorf("LIST %s without limit=%d: %q", path, page, q.Query)
		}
		if !strings.Contains(q.Accept, "as=PartialObjectMetadataList") {
			t.Errorf("LIST %s read whole objects (Accept %q), want metadata only", path, q.Accept)
		}
	}
}

// TestClusterResolveAcrossPages resolves names in a namespace holding more
// deployments than one page: every page is read, as metadata only. Past the
// bound on names kept, an exact name is still found and a loose one is
// refused rather than guessed.
func TestClusterResolveAcrossPages(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	for i := range 6 {
		e.createDeployment(t, deploySpec{name: fmt.Sprintf("filler-%d", i), noWait: true})
	}
	// Listed in name order: the one looked for is on the last page.
	e.createDeployment(t, deploySpec{name: "todo-backend", noWait: true})
	const page = 2
	ns := e.Namespace
	deployments, err := ResolveKind(e.c.Mapper, "deployments")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		keep    int
		kind    workloadKind
		query   string
		object  bool // ResolveObject rather than resolveWorkload
		want    string
		wantErr error
		says    string
	}{
		{name: "loose name, any kind", query: "backend", want: "deployment/todo-backend"},
		{name: "loose name, kind given", kind: kindDeployment, query: "backend", want: "deployment/todo-backend"},
		{name: "loose name, object", query: "backend", object: true, want: "deployment/todo-backend"},
		{name: "over the bound, exact name", keep: 3, kind: kindDeployment, query: "todo-backend", want: "deployment/todo-backend"},
		{name: "over the bound, exact name, any kind", keep: 3, query: "todo-backend", want: "deployment/todo-backend"},
		{name: "over the bound, loose name", keep: 3, kind: kindDeployment, query: "backend", wantErr: tools.ErrNotFound, says: "first 3 deployments"},
		{name: "over the bound, loose name, object", keep: 3, object: true, query: "backend", wantErr: tools.ErrNotFound, says: "first 3 deployments"},
		{name: "over the bound, loose match refused", keep: 3, kind: kindDeployment, query: "1", wantErr: tools.ErrAmbiguous, says: "use the exact name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec testcluster.Recorder
			c := recordedClients(t, &rec, e.c)
			ctx := withListBounds(t.Context(), page, tt.keep)
			var got string
			var err error
			if tt.object {
				var u interface{ GetName() string }
				if u, err = ResolveObject(ctx, c, deployments, ns, tt.query); err == nil {
					got = "deployment/" + u.GetName()
				}
			} else {
				var ref workloadRef
				if ref, err = resolveWorkload(ctx, c, ns, tt.kind, tt.query, podKinds); err == nil {
					got = ref.String()
				}
			}
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) || !strings.Contains(fmt.Sprint(err), tt.says) {
					t.Fatalf("resolve %q = %s, %v; want %v saying %q", tt.query, got, err, tt.wantErr, tt.says)
				}
			case err != nil || got != tt.want:
				t.Fatalf("resolve %q = %s, %v; want %s", tt.query, got, err, tt.want)
			}
			pages := 4 // 7 deployments at 2 a page
			if tt.keep > 0 {
				pages = 2
			}
			wantMetadataPages(t, &rec, "/apis/apps/v1/namespaces/"+ns+"/deployments", page, pages)
		})
	}
}

// TestClusterDescribeWorkloadReplicaSetsAcrossPages describes a
// Deployment whose ReplicaSets are not on the first page of the
// namespace's: all of them are found, by its selector and owner, as
// metadata, a page at a time.
func TestClusterDescribeWorkloadReplicaSetsAcrossPages(t *testing.T) {
	t.Parallel()
	e := newClusterEnv(t)
	ctx := t.Context()
	ns := e.Namespace
	// ReplicaSets of nobody, listed before the Deployment's.
	var others []string
	for i := range 4 {
		l := map[string]string{"app": fmt.Sprintf("aa-%d", i)}
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("aa-%d", i), Labels: l},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: l},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/aa:1"}}}}},
		}
		got, err := e.Client.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, string(got.UID))
	}
	// Three revisions of web: three ReplicaSets.
	d := e.createDeployment(t, deploySpec{name: "web", noWait: true})
	for i := 2; i <= 3; i++ {
		e.updateDeployment(t, "web", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = fmt.Sprintf("registry.example/web:%d.0", i)
		})
		e.waitDeployment(t, "web", 0)
	}
	var want []string
	deadline := time.Now().Add(60 * time.Second)
	for len(want) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("web has %d ReplicaSets, want 3", len(want))
		}
		time.Sleep(200 * time.Millisecond)
		l, err := e.Client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			t.Fatal(err)
		}
		want = want[:0]
		for i := range l.Items {
			if ref := metav1.GetControllerOf(&l.Items[i]); ref != nil && ref.UID == d.UID {
				want = append(want, string(l.Items[i].UID))
			}
		}
	}

	var rec testcluster.Recorder
	c := recordedClients(t, &rec, e.c)
	u, err := c.Dynamic.Resource(appsv1.SchemeGroupVersion.WithResource("deployments")).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const page = 2
	_, owned, err := describeWorkload(withListBounds(ctx, page, 0), c, u)
	if err != nil {
		t.Fatal(err)
	}
	for _, uid := range want {
		if !slices.Contains(owned, uid) {
			t.Errorf("ReplicaSet %s of web missing from the owned UIDs %v", uid, owned)
		}
	}
	for _, uid := range others {
		if slices.Contains(owned, uid) {
			t.Errorf("ReplicaSet %s of nobody among web's owned UIDs", uid)
		}
	}
	path := "/apis/apps/v1/namespaces/" + ns + "/replicasets"
	wantMetadataPages(t, &rec, path, page, 2)
	for _, q := range rec.Lists(path) {
		if !strings.Contains(q.Query, "labelSelector=app%3Dweb") {
			t.Errorf("ReplicaSet LIST without web's selector: %q", q.Query)
		}
	}
}

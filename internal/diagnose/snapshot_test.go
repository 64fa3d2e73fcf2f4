package diagnose

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsagent/opsagent/internal/redact"
	"github.com/opsagent/opsagent/internal/testcluster"
)

// TestSnapshotPages lists a namespace holding more objects than the page
// size: every object is read, a page at a time; objects are kept without
// their managed fields; Secret values become needles, Helm release records
// are read as metadata only and are not needles.
func TestSnapshotPages(t *testing.T) {
	t.Parallel()
	env := testcluster.New(t)
	ctx := context.Background()
	ns := env.Namespace
	const n, page = 5, 2

	for i := range n {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}}}
		if _, err := env.Client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i)},
			StringData: map[string]string{"password": fmt.Sprintf("page-secret-value-%d", i)}}
		if _, err := env.Client.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Three revisions of a Helm release as Helm's Secret driver writes
	// them; the payloads are plain text here so that a needle made of one
	// would show.
	for v := 1; v <= 3; v++ {
		status := map[bool]string{true: "deployed", false: "superseded"}[v == 3]
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sh.helm.release.v1.web.v%d", v),
				Labels: map[string]string{"owner": "helm", "name": "web", "version": fmt.Sprint(v), "status": status}},
			Type: helmReleaseType,
			Data: map[string][]byte{"release": fmt.Appendf(nil, "helm-release-payload-%d", v)},
		}
		if _, err := env.Client.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	var rec testcluster.Recorder
	d, err := NewForConfig(rec.Wrap(env.RESTConfig), "test")
	if err != nil {
		t.Fatal(err)
	}
	sc := scope{namespace: ns, includeSystem: true, pageSize: page}
	s, failures, err := collect(ctx, d, plan{now: time.Now(), scope: sc, need: []Resource{ResPods, ResSecrets}})
	if err != nil || len(failures) > 0 {
		t.Fatalf("collect: %v %v", err, failures)
	}

	if got := len(s.Pods) + len(s.settled); got != n {
		t.Errorf("%d pods in the snapshot (%d whole, %d settled), want %d", got, len(s.Pods), len(s.settled), n)
	}
	for _, p := range s.Pods {
		if p.ManagedFields != nil {
			t.Errorf("pod %s kept its managed fields", p.Name)
		}
	}
	pods := rec.Lists("/api/v1/namespaces/" + ns + "/pods")
	if len(pods) < (n+page-1)/page {
		t.Errorf("%d pod LISTs for %d pods at %d a page: not paged (%v)", len(pods), n, page, pods)
	}
	for _, q := range pods {
		if !strings.Contains(q.Query, fmt.Sprintf("limit=%d", page)) {
			t.Errorf("pod LIST without limit=%d: %q", page, q.Query)
		}
	}

	// Secrets: values read in pages without Helm records, the records as
	// metadata only.
	var values, records int
	for _, q := range rec.Lists("/api/v1/namespaces/" + ns + "/secrets") {
		switch {
		case strings.Contains(q.Query, "type%21%3Dhelm.sh"), strings.Contains(q.Query, "type!=helm.sh"):
			values++
		case strings.Contains(q.Query, "type%3Dhelm.sh"), strings.Contains(q.Query, "type=helm.sh"):
			records++
			if !strings.Contains(q.Accept, "as=PartialObjectMetadataList") {
				t.Errorf("Helm release records listed whole (Accept %q), want metadata only", q.Accept)
			}
		default:
			t.Errorf("Secret LIST without a type selector: %q", q.Query)
		}
		if !strings.Contains(q.Query, fmt.Sprintf("limit=%d", page)) {
			t.Errorf("Secret LIST without limit=%d: %q", page, q.Query)
		}
	}
	if values < (n+page-1)/page || records < 2 {
		t.Errorf("%d value pages and %d record pages, want ≥ %d and ≥ 2", values, records, (n+page-1)/page)
	}
	for i := range n {
		if got := s.redactor.Redact(fmt.Sprintf("x page-secret-value-%d y", i)); got != "x "+redact.Redacted+" y" {
			t.Errorf("Secret s%d's value is not a needle: %q", i, got)
		}
	}
	if got := s.redactor.Redact("helm-release-payload-1"); got != "helm-release-payload-1" {
		t.Errorf("a Helm release payload became a needle: %q", got)
	}
	latest, all := s.helmReleases()
	if rev := latest[nsName{ns, "web"}]; rev.version != 3 || len(all[nsName{ns, "web"}]) != 3 {
		t.Errorf("Helm release web: latest %+v of %d revisions, want v3 of 3", rev, len(all[nsName{ns, "web"}]))
	}
	for name, info := range s.secrets {
		if info.release != nil {
			t.Errorf("%s: payload of a deployed release kept", name.name)
		}
	}
}

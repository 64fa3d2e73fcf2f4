package charts_test

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/strvals"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/opsagent/opsagent/charts"
)

// testKubeVersion is the cluster version renders assume: the oldest the
// chart supports.
var testKubeVersion = &chartutil.KubeVersion{Version: "v1.27.0", Major: "1", Minor: "27"}

// strictDecoder rejects unknown and duplicate fields, so a misspelt field in
// a template fails the tests instead of vanishing silently.
var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// rendered is a chart rendered client-side, decoded into typed objects.
type rendered struct {
	objects []runtime.Object
	// hooks are the hook objects (the `helm test` pod).
	hooks []runtime.Object
	notes string
}

// parseSet turns --set style expressions into values.
func parseSet(t *testing.T, sets ...string) map[string]any {
	t.Helper()
	vals := map[string]any{}
	for _, s := range sets {
		if err := strvals.ParseInto(s, vals); err != nil {
			t.Fatalf("parse %q: %v", s, err)
		}
	}
	return vals
}

// renderChart renders the embedded chart as `helm template` would, with
// lookup returning nothing.
func renderChart(releaseName string, vals map[string]any) (*rendered, error) {
	ch, err := charts.TodoChatbot()
	if err != nil {
		return nil, err
	}
	inst := action.NewInstall(new(action.Configuration))
	inst.DryRun, inst.ClientOnly = true, true
	inst.ReleaseName, inst.Namespace = releaseName, "todo"
	inst.KubeVersion = testKubeVersion
	rel, err := inst.Run(ch, vals)
	if err != nil {
		return nil, err
	}
	out := &rendered{notes: rel.Info.Notes}
	if out.objects, err = decodeAll(rel.Manifest); err != nil {
		return nil, err
	}
	for _, h := range rel.Hooks {
		objs, err := decodeAll(h.Manifest)
		if err != nil {
			return nil, fmt.Errorf("hook %s: %w", h.Path, err)
		}
		out.hooks = append(out.hooks, objs...)
	}
	return out, nil
}

func mustRender(t *testing.T, releaseName string, vals map[string]any) *rendered {
	t.Helper()
	r, err := renderChart(releaseName, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return r
}

func decodeAll(manifest string) ([]runtime.Object, error) {
	var out []runtime.Object
	docs := releaseutil.SplitManifests(manifest)
	// SplitManifests keys the documents "manifest-<n>" in manifest order.
	keys := slices.SortedFunc(maps.Keys(docs), func(a, b string) int {
		return cmp.Compare(docIndex(a), docIndex(b))
	})
	for _, k := range keys {
		doc := docs[k]
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj, _, err := strictDecoder.Decode([]byte(doc), nil, nil)
		if runtime.IsNotRegisteredError(err) {
			// Prometheus Operator kinds have no Go types here: decode them
			// generically and let monitoring_test check their fields.
			u := &unstructured.Unstructured{}
			if yerr := yaml.Unmarshal([]byte(doc), &u.Object); yerr == nil && u.GroupVersionKind().Group == monitoringGroup {
				out = append(out, u)
				continue
			}
		}
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w\n%s", k, err, doc)
		}
		out = append(out, obj)
	}
	return out, nil
}

// find returns the object of type T named name, or nil.
func find[T runtime.Object](objs []runtime.Object, name string) T {
	var zero T
	for _, o := range objs {
		if typed, ok := o.(T); ok && objectMeta(o).GetName() == name {
			return typed
		}
	}
	return zero
}

// all returns every object of type T.
func all[T runtime.Object](objs []runtime.Object) []T {
	var out []T
	for _, o := range objs {
		if typed, ok := o.(T); ok {
			out = append(out, typed)
		}
	}
	return out
}

func objectMeta(o runtime.Object) metav1.Object {
	m, err := meta(o)
	if err != nil {
		panic(err)
	}
	return m
}

func meta(o runtime.Object) (metav1.Object, error) {
	if u, ok := o.(*unstructured.Unstructured); ok {
		return u, nil
	}
	if a, ok := o.(metav1.ObjectMetaAccessor); ok {
		return a.GetObjectMeta(), nil
	}
	return nil, fmt.Errorf("%T has no metadata", o)
}

func kindName(o runtime.Object) string {
	return fmt.Sprintf("%T/%s", o, objectMeta(o).GetName())
}

// podSpecs returns the pod templates of all workloads and hook pods, keyed by
// "<Kind>/<name>".
func (r *rendered) podSpecs() map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for _, o := range append(slices.Clone(r.objects), r.hooks...) {
		switch w := o.(type) {
		case *appsv1.Deployment:
			out["Deployment/"+w.Name] = w.Spec.Template
		case *appsv1.StatefulSet:
			out["StatefulSet/"+w.Name] = w.Spec.Template
		case *corev1.Pod:
			out["Pod/"+w.Name] = corev1.PodTemplateSpec{ObjectMeta: w.ObjectMeta, Spec: w.Spec}
		}
	}
	return out
}

func docIndex(key string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(key, "manifest-"))
	return n
}

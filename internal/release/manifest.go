package release

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"
)

// Object names one Kubernetes object of a release.
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	// Namespace is empty for objects the chart leaves to the release namespace.
	Namespace string `json:"namespace,omitempty"`
}

// String formats the object the way kubectl names it: Kind/name.
func (o Object) String() string { return o.Kind + "/" + o.Name }

// key identifies an object across revisions. The apiVersion is left out on
// purpose: moving a kind to a new API version is an update, not a new object.
func (o Object) key() string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// manifestObject is one document of a rendered release manifest.
type manifestObject struct {
	Object
	// Keep is true for objects annotated helm.sh/resource-policy: keep,
	// which `helm uninstall` leaves in place.
	Keep bool
	// Body is the document's YAML without Helm's "# Source:" comment.
	Body string
}

// header is the part of an object parseManifest reads.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

// parseManifest splits a release manifest into its objects, in manifest order
// (which Helm already sorted into install order).
func parseManifest(manifest string) ([]manifestObject, error) {
	docs := releaseutil.SplitManifests(manifest)
	// SplitManifests keys the documents "manifest-<n>" in manifest order.
	names := slices.SortedFunc(maps.Keys(docs), func(a, b string) int {
		return cmp.Compare(docIndex(a), docIndex(b))
	})
	var objs []manifestObject
	for _, name := range names {
		body := stripSourceComments(docs[name])
		if strings.TrimSpace(body) == "" {
			continue
		}
		var h header
		if err := yaml.Unmarshal([]byte(body), &h); err != nil {
			return nil, fmt.Errorf("parse release manifest: %w", err)
		}
		if h.Kind == "" {
			continue
		}
		objs = append(objs, manifestObject{
			Object: Object{APIVersion: h.APIVersion, Kind: h.Kind, Name: h.Metadata.Name, Namespace: h.Metadata.Namespace},
			Keep:   strings.EqualFold(strings.TrimSpace(h.Metadata.Annotations[kube.ResourcePolicyAnno]), kube.KeepPolicy),
			Body:   body,
		})
	}
	return objs, nil
}

// objectsOf lists the objects of a manifest.
func objectsOf(manifest string) ([]Object, error) {
	objs, err := parseManifest(manifest)
	if err != nil {
		return nil, err
	}
	out := make([]Object, len(objs))
	for i, o := range objs {
		out[i] = o.Object
	}
	return out, nil
}

// stripSourceComments drops the "# Source: <template>" lines Helm adds: they
// are not part of the object and would show up as noise in diffs.
func stripSourceComments(doc string) string {
	lines := strings.Split(strings.TrimSpace(doc), "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "# Source: ") })
	return strings.Join(lines, "\n") + "\n"
}

// docIndex is n in SplitManifests' "manifest-<n>" keys.
func docIndex(key string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(key, "manifest-"))
	return n
}

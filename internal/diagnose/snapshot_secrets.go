package diagnose

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// secretsResource is Secrets for the metadata client.
var secretsResource = corev1.SchemeGroupVersion.WithResource("secrets")

// listSecrets reads what diagnose needs of Secrets without holding their
// payloads, in two lists a page at a time:
//
//   - every Secret but Helm's release records: key names are kept (for the
//     missing-key checks), values go into the redactor and are dropped with
//     the page;
//   - Helm's release records as metadata only: their labels say release,
//     revision and status, which is all the Helm analyzer needs of most of
//     them. Each is a gzipped chart and manifest, one per revision (ten per
//     release by default), so listing them whole made the largest part of a
//     snapshot on clusters with many releases. The payload is read, one GET
//     each, only for the latest revision of a release that failed or is
//     pending: the only one the analyzer decodes.
func (s *Snapshot) listSecrets(ctx context.Context, d *Diagnoser) error {
	ns, ps := s.scope.namespace, s.scope.pageSize
	if d.meta == nil {
		return errors.New("no metadata client to list Helm release records (build the Diagnoser with New or NewForConfig)")
	}
	// The two lists run side by side, each into its own snapshot of
	// secrets, merged after: one round trip, not two in a row.
	values, releases := &Snapshot{redactor: s.redactor, secrets: map[nsName]*secretInfo{}}, &Snapshot{secrets: map[nsName]*secretInfo{}}
	var valuesErr, releasesErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		opts := metav1.ListOptions{FieldSelector: "type!=" + string(helmReleaseType)}
		valuesErr = eachItem(ctx, ps, opts, d.client.CoreV1().Secrets(ns).List, values.addSecret)
	})
	wg.Go(func() {
		opts := metav1.ListOptions{FieldSelector: "type=" + string(helmReleaseType)}
		releasesErr = eachItem(ctx, ps, opts, d.meta.Resource(secretsResource).Namespace(ns).List, func(m *metav1.PartialObjectMetadata) {
			releases.addHelmRecord(&m.ObjectMeta)
		})
	})
	wg.Wait()
	if valuesErr != nil {
		return valuesErr
	}
	if releasesErr != nil {
		return fmt.Errorf("list Helm release records: %w", releasesErr)
	}
	s.secrets = values.secrets
	maps.Copy(s.secrets, releases.secrets)
	return s.fetchHelmReleases(ctx, d)
}

// addSecret keeps a Secret's key names (for the missing-key checks) and
// feeds its values to the redactor; the values are not kept.
func (s *Snapshot) addSecret(sec *corev1.Secret) {
	s.redactor.AddSecret(sec) // skips non-secret keys (a token Secret's namespace)
	info := &secretInfo{meta: sec.ObjectMeta, typ: sec.Type, keys: make(map[string]bool, len(sec.Data))}
	for k := range sec.Data {
		info.keys[k] = true
	}
	slimMeta(&info.meta)
	s.secrets[nsName{sec.Namespace, sec.Name}] = info
}

// addHelmRecord keeps a Helm release record's metadata. Its keys stay nil:
// nothing refers to a release record's keys.
func (s *Snapshot) addHelmRecord(m *metav1.ObjectMeta) {
	info := &secretInfo{meta: *m, typ: helmReleaseType}
	slimMeta(&info.meta)
	s.secrets[nsName{m.Namespace, m.Name}] = info
}

// fetchHelmReleases reads the payload of the latest revision of each
// release that failed or is pending: the only one the analyzer decodes.
func (s *Snapshot) fetchHelmReleases(ctx context.Context, d *Diagnoser) error {
	latest, _ := s.helmReleases()
	for _, rev := range latest {
		if !helmNeedsRelease(rev.info.meta.Labels) {
			continue
		}
		data, err := d.releaseData(ctx, &rev.info.meta)
		switch {
		case err == nil:
			rev.info.release = data
		case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
			// Replaced by a newer revision since the list, or the user may
			// list but not get Secrets: the finding is made from the
			// labels, without Helm's description of the failure.
		default:
			return fmt.Errorf("get Helm release record %s/%s: %w", rev.info.meta.Namespace, rev.info.meta.Name, err)
		}
	}
	return nil
}

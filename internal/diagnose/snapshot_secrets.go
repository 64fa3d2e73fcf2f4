package diagnose

import (
	"context"
	"errors"
	"fmt"

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
	s.secrets = map[nsName]*secretInfo{}
	values := metav1.ListOptions{FieldSelector: "type!=" + string(helmReleaseType)}
	err := eachItem(ctx, ps, values, d.client.CoreV1().Secrets(ns).List, func(sec *corev1.Secret) {
		s.redactor.AddSecret(sec) // skips non-secret keys (a token Secret's namespace)
		info := &secretInfo{meta: sec.ObjectMeta, typ: sec.Type, keys: make(map[string]bool, len(sec.Data))}
		for k := range sec.Data {
			info.keys[k] = true
		}
		slimMeta(&info.meta)
		s.secrets[nsName{sec.Namespace, sec.Name}] = info
	})
	if err != nil {
		return err
	}
	if d.meta == nil {
		return errors.New("no metadata client to list Helm release records (build the Diagnoser with New or NewForConfig)")
	}
	releases := metav1.ListOptions{FieldSelector: "type=" + string(helmReleaseType)}
	err = eachItem(ctx, ps, releases, d.meta.Resource(secretsResource).Namespace(ns).List, func(m *metav1.PartialObjectMetadata) {
		// keys stay nil: the records' keys are not read, and nothing
		// refers to a release record's keys.
		info := &secretInfo{meta: m.ObjectMeta, typ: helmReleaseType}
		slimMeta(&info.meta)
		s.secrets[nsName{m.Namespace, m.Name}] = info
	})
	if err != nil {
		return fmt.Errorf("list Helm release records: %w", err)
	}
	latest, _ := s.helmReleases()
	for _, rev := range latest {
		if !helmNeedsRelease(rev.info.meta.Labels) {
			continue
		}
		sec, err := d.client.CoreV1().Secrets(rev.info.meta.Namespace).Get(ctx, rev.info.meta.Name, metav1.GetOptions{})
		switch {
		case err == nil:
			rev.info.release = sec.Data["release"]
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

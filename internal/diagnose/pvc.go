package diagnose

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// PersistentVolumeClaim rules.
const (
	RulePVCStorageClassMissing   = "PVCStorageClassMissing"
	RulePVCNoDefaultStorageClass = "PVCNoDefaultStorageClass"
	RulePVCProvisioningFailed    = "PVCProvisioningFailed"
	RulePVCPending               = "PVCPending"
	RulePVCLost                  = "PVCLost"
)

const defaultStorageClassAnnotation = "storageclass.kubernetes.io/is-default-class"

type pvcAnalyzer struct{}

var _ Analyzer = pvcAnalyzer{}

func (pvcAnalyzer) Kind() string { return "PersistentVolumeClaim" }
func (pvcAnalyzer) Needs() []Resource {
	return needs(ResPVCs, ResStorageClasses, ResEvents, ResPods)
}

func (pvcAnalyzer) Analyze(s *Snapshot) Result {
	var r Result
	for i := range s.PVCs {
		pvc := &s.PVCs[i]
		if !s.inScope(&pvc.ObjectMeta) {
			continue
		}
		r.Checked++
		if f, ok := checkPVC(s, pvc); ok {
			r.Findings = append(r.Findings, f)
		}
	}
	return r
}

func checkPVC(s *Snapshot, pvc *corev1.PersistentVolumeClaim) (Finding, bool) {
	ref := refOf("PersistentVolumeClaim", &pvc.ObjectMeta)
	f := Finding{Object: ref, Owners: s.owners(&pvc.ObjectMeta), Severity: Critical}
	ns := pvc.Namespace
	if pvc.Status.Phase == corev1.ClaimLost {
		f.Rule = RulePVCLost
		f.Summary = fmt.Sprintf("is Lost: its volume %s no longer exists", pvc.Spec.VolumeName)
		f.Evidence.Status = []string{"phase: Lost", "volumeName: " + pvc.Spec.VolumeName}
		f.Cause = "The PersistentVolume the claim was bound to was deleted; the data is gone unless the volume can be restored."
		f.Fixes = []Fix{{Description: "Restore the volume from a backup, or delete and re-create the claim", Command: shellf("kubectl describe pvc %s -n %s", pvc.Name, ns)}}
		return f, true
	}
	if pvc.Status.Phase != corev1.ClaimPending {
		return Finding{}, false
	}
	class, classes, def := claimClass(s, pvc)
	f.Evidence.Status = []string{"phase: Pending", "storageClassName: " + describeClassName(pvc)}
	events := s.eventsOf(ref, maxEvents, "ProvisioningFailed", "FailedBinding", "VolumeMismatch")
	f.Evidence.Events = events
	switch {
	case pvc.Spec.StorageClassName != nil && *pvc.Spec.StorageClassName != "" && class == nil:
		name := *pvc.Spec.StorageClassName
		f.Rule = RulePVCStorageClassMissing
		f.Summary = fmt.Sprintf("is Pending: StorageClass %q does not exist", name)
		f.Evidence.Status = append(f.Evidence.Status, "StorageClasses in the cluster: "+listOrNone(classes))
		f.Cause = "No provisioner creates volumes for a StorageClass that does not exist, so the claim stays Pending and its pods cannot start."
		target := def
		if target == "" && len(classes) == 1 {
			target = classes[0]
		}
		if target != "" {
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("storageClassName cannot be changed on a claim: set storageClassName: %s in its manifest (or chart values), delete the claim and apply it again", target),
				Command: shellf("kubectl delete pvc %s -n %s && kubectl apply -f <manifest with storageClassName: %s>", pvc.Name, ns, target)})
		} else {
			f.Fixes = append(f.Fixes, Fix{Description: "Create the StorageClass, or re-create the claim with one that exists", Command: "kubectl get storageclasses"})
		}
		return f, true
	case pvc.Spec.StorageClassName == nil && def == "" && pvc.Spec.VolumeName == "":
		f.Rule = RulePVCNoDefaultStorageClass
		f.Summary = "is Pending: it names no StorageClass and the cluster has no default one"
		f.Evidence.Status = append(f.Evidence.Status, "default StorageClass: none", "StorageClasses in the cluster: "+listOrNone(classes))
		f.Cause = "A claim without storageClassName uses the default StorageClass; there is none, so nothing provisions a volume for it."
		if len(classes) > 0 {
			f.Fixes = append(f.Fixes, Fix{Description: fmt.Sprintf("Make %q the default StorageClass (the claim then gets it)", classes[0]),
				Command: shellf("kubectl patch storageclass %s -p %s", classes[0],
					jsonText(map[string]any{"metadata": map[string]any{"annotations": map[string]string{defaultStorageClassAnnotation: "true"}}}))})
		} else {
			f.Fixes = append(f.Fixes, Fix{Description: "Install a storage provisioner and make its StorageClass the default"})
		}
		return f, true
	}
	if class != nil && class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer && len(events) == 0 {
		return Finding{}, false // waits for its first pod: not a problem
	}
	if len(events) > 0 {
		f.Rule = RulePVCProvisioningFailed
		f.Summary = "is Pending: " + events[0].Message
		if class != nil {
			f.Evidence.Status = append(f.Evidence.Status, "provisioner: "+class.Provisioner)
		}
		f.Cause = "The volume cannot be provisioned or bound: " + events[0].Message
		f.Fixes = []Fix{{Description: "See the claim's events and compare its size, access modes and volume mode with what the StorageClass supports", Command: shellf("kubectl describe pvc %s -n %s", pvc.Name, ns)}}
		return f, true
	}
	if age := s.Now.Sub(pvc.CreationTimestamp.Time); age > startupGrace {
		f.Rule = RulePVCPending
		f.Severity = Warning
		f.Summary = "has been Pending for " + duration.HumanDuration(age)
		switch {
		case class != nil:
			f.Evidence.Status = append(f.Evidence.Status, "provisioner: "+class.Provisioner)
			f.Cause = fmt.Sprintf("Nothing has provisioned a volume for the claim: is the provisioner %q of StorageClass %q running?", class.Provisioner, class.Name)
		default:
			f.Cause = "No PersistentVolume matches the claim (no StorageClass: it waits for a matching volume created by hand)."
		}
		f.Fixes = []Fix{{Description: "See the claim's events", Command: shellf("kubectl describe pvc %s -n %s", pvc.Name, ns)}}
		return f, true
	}
	return Finding{}, false
}

// claimClass resolves the StorageClass of a claim, and lists the classes
// and the default one.
func claimClass(s *Snapshot, pvc *corev1.PersistentVolumeClaim) (class *storagev1.StorageClass, names []string, def string) {
	for i := range s.StorageClasses {
		sc := &s.StorageClasses[i]
		names = append(names, sc.Name)
		if sc.Annotations[defaultStorageClassAnnotation] == "true" && def == "" {
			def = sc.Name
		}
	}
	slices.Sort(names)
	want := def
	if pvc.Spec.StorageClassName != nil {
		want = *pvc.Spec.StorageClassName
	}
	for i := range s.StorageClasses {
		if s.StorageClasses[i].Name == want {
			class = &s.StorageClasses[i]
		}
	}
	return class, names, def
}

func describeClassName(pvc *corev1.PersistentVolumeClaim) string {
	switch {
	case pvc.Spec.StorageClassName == nil:
		return "not set (the default class)"
	case *pvc.Spec.StorageClassName == "":
		return `"" (no dynamic provisioning)`
	}
	return *pvc.Spec.StorageClassName
}

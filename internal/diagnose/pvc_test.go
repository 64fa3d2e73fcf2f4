package diagnose

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pvcObj(name string, class *string, mode corev1.PersistentVolumeMode) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: class,
			VolumeMode:       &mode,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
}

func TestPVCAnalyzer(t *testing.T) {
	t.Parallel()
	fs, block := corev1.PersistentVolumeFilesystem, corev1.PersistentVolumeBlock
	tests := []struct {
		name     string
		pvc      func(ns string) *corev1.PersistentVolumeClaim
		wffc     bool // create a WaitForFirstConsumer class named after the namespace
		rule     string
		severity Severity
		want     []string
		wantFix  string
	}{
		{name: "unknown StorageClass", pvc: func(string) *corev1.PersistentVolumeClaim { return pvcObj("data", ptrTo("fast-ssd"), fs) },
			rule: RulePVCStorageClassMissing, severity: Critical, want: []string{`StorageClass "fast-ssd" does not exist`, "standard"},
			wantFix: "storageClassName: standard"},
		{name: "provisioning fails with the provisioner's reason", pvc: func(string) *corev1.PersistentVolumeClaim { return pvcObj("data", nil, block) },
			rule: RulePVCProvisioningFailed, severity: Critical, want: []string{"does not support block volume provisioning", "ProvisioningFailed"}},
		{name: "waiting for its first consumer is not a problem", wffc: true,
			pvc: func(ns string) *corev1.PersistentVolumeClaim { return pvcObj("data", ptrTo("wffc-"+ns), fs) }},
		{name: "bound claim is healthy", pvc: func(string) *corev1.PersistentVolumeClaim { return pvcObj("data", nil, fs) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			ctx := context.Background()
			if tc.wffc {
				wffc := storagev1.VolumeBindingWaitForFirstConsumer
				sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "wffc-" + e.Namespace}, Provisioner: "k8s.io/minikube-hostpath", VolumeBindingMode: &wffc}
				if _, err := e.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					_ = e.Client.StorageV1().StorageClasses().Delete(context.Background(), sc.Name, metav1.DeleteOptions{})
				})
			}
			if _, err := e.Client.CoreV1().PersistentVolumeClaims(e.Namespace).Create(ctx, tc.pvc(e.Namespace), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			o := Options{Kinds: []string{"PersistentVolumeClaim"}}
			if tc.rule == "" {
				if !tc.wffc {
					e.waitFor(t, o, "the claim to bind", func(*Report) bool {
						p, err := e.Client.CoreV1().PersistentVolumeClaims(e.Namespace).Get(ctx, "data", metav1.GetOptions{})
						return err == nil && p.Status.Phase == corev1.ClaimBound
					})
				}
				// Even long after creation: a WaitForFirstConsumer claim stays quiet.
				rep := e.diagnose(t, Options{Kinds: o.Kinds, Now: time.Now().Add(time.Hour)})
				if !rep.Summary.Healthy || rep.Summary.Checked["PersistentVolumeClaim"] != 1 {
					t.Fatalf("healthy claim reported:\n%s", reportText(rep))
				}
				return
			}
			f, _ := e.waitRule(t, o, tc.rule, "data", tc.want...)
			if f.Severity != tc.severity {
				t.Errorf("severity = %s, want %s", f.Severity, tc.severity)
			}
			mustContain(t, "finding", allText(f), tc.want...)
			if tc.wantFix != "" && !hasFix(f, tc.wantFix) {
				t.Errorf("no fix with %q: %+v", tc.wantFix, f.Fixes)
			}
		})
	}
}

// TestPVCNoDefaultStorageClass checks the no-default rule on a snapshot
// built in memory: removing the shared sandbox's default StorageClass would
// break every other test that creates a claim.
func TestPVCNoDefaultStorageClass(t *testing.T) {
	t.Parallel()
	immediate := storagev1.VolumeBindingImmediate
	classes := []storagev1.StorageClass{{ObjectMeta: metav1.ObjectMeta{Name: "slow"}, Provisioner: "example.com/slow", VolumeBindingMode: &immediate}}
	tests := []struct {
		name    string
		classes []storagev1.StorageClass
		rule    string
		wantFix string
	}{
		{"no default class", classes, RulePVCNoDefaultStorageClass, `kubectl patch storageclass slow -p '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}'`},
		{"with a default class it waits for the provisioner", []storagev1.StorageClass{{ObjectMeta: metav1.ObjectMeta{Name: "slow",
			Annotations: map[string]string{defaultStorageClassAnnotation: "true"}}, Provisioner: "example.com/slow", VolumeBindingMode: &immediate}}, RulePVCPending, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pvc := pvcObj("data", nil, corev1.PersistentVolumeFilesystem)
			pvc.Namespace, pvc.UID = "app", "uid-1"
			pvc.CreationTimestamp = metav1.NewTime(time.Now().Add(-time.Hour))
			pvc.Status.Phase = corev1.ClaimPending
			s := &Snapshot{Now: time.Now(), scope: scope{namespace: "app"}, listed: map[Resource]bool{ResPVCs: true, ResStorageClasses: true},
				PVCs: []corev1.PersistentVolumeClaim{*pvc}, StorageClasses: tc.classes}
			s.index()
			res := pvcAnalyzer{}.Analyze(s)
			if len(res.Findings) != 1 || res.Findings[0].Rule != tc.rule {
				t.Fatalf("findings = %+v, want one %s", res.Findings, tc.rule)
			}
			if tc.wantFix != "" && !hasFix(res.Findings[0], tc.wantFix) {
				t.Errorf("no fix %q: %+v", tc.wantFix, res.Findings[0].Fixes)
			}
		})
	}
}

package nodetools

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPodClassification(t *testing.T) {
	owned := func(kind string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{Kind: kind, Name: "x", Controller: ptr.To(true)}}
	}
	emptyDir := []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	tests := []struct {
		name           string
		pod            corev1.Pod
		deleteEmptyDir bool
		ignore, block  string // substrings; "" = none
	}{
		{name: "replicaset pod", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: owned("ReplicaSet")}}},
		{name: "daemonset pod", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: owned("DaemonSet")}}, ignore: "DaemonSet pod"},
		{name: "finished daemonset pod", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: owned("DaemonSet")}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}},
		{name: "static pod", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{corev1.MirrorPodAnnotationKey: "x"}}}, ignore: "static pod"},
		{name: "bare pod", pod: corev1.Pod{}, block: "bare pod"},
		{name: "finished bare pod", pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}}},
		{name: "emptyDir pod", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: owned("ReplicaSet")}, Spec: corev1.PodSpec{Volumes: emptyDir}}, block: "delete_emptydir_data=true"},
		{name: "emptyDir pod accepted", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: owned("StatefulSet")}, Spec: corev1.PodSpec{Volumes: emptyDir}}, deleteEmptyDir: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ignore, block := ignoreReason(&tt.pod), blockReason(&tt.pod, tt.deleteEmptyDir)
			if (tt.ignore == "") != (ignore == "") || !strings.Contains(ignore, tt.ignore) {
				t.Errorf("ignoreReason = %q, want %q", ignore, tt.ignore)
			}
			if tt.ignore == "" && ((tt.block == "") != (block == "") || !strings.Contains(block, tt.block)) {
				t.Errorf("blockReason = %q, want %q", block, tt.block)
			}
		})
	}
}

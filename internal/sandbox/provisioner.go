package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

// ProvisionerName is the provisioner of the sandbox's default StorageClass;
// it is the name minikube's storage-provisioner addon uses, so charts and
// manifests written for minikube behave the same here.
const ProvisionerName = "k8s.io/minikube-hostpath"

// hostPathProvisioner backs each PersistentVolume with a folder under root.
// Nothing mounts it (kwok runs no containers), but the PV/PVC lifecycle —
// binding, reclaim, deletion — is the real controller's.
type hostPathProvisioner struct {
	root string
}

var _ controller.Provisioner = (*hostPathProvisioner)(nil)

func (p *hostPathProvisioner) Provision(_ context.Context, opts controller.ProvisionOptions) (*corev1.PersistentVolume, controller.ProvisioningState, error) {
	dir := filepath.Join(p.root, opts.PVC.Namespace, opts.PVName)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("create volume folder %s: %w", dir, err)
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if opts.StorageClass.ReclaimPolicy != nil {
		reclaim = *opts.StorageClass.ReclaimPolicy
	}
	hostPathType := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        opts.PVName,
			Annotations: map[string]string{"hostPathProvisionerIdentity": "opsagent-sandbox"},
		},
		Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   opts.PVC.Spec.AccessModes,
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: opts.PVC.Spec.Resources.Requests[corev1.ResourceStorage]},
			MountOptions:                  opts.StorageClass.MountOptions,
			VolumeMode:                    opts.PVC.Spec.VolumeMode,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &hostPathType},
			},
		},
	}
	return pv, controller.ProvisioningFinished, nil
}

func (p *hostPathProvisioner) Delete(_ context.Context, pv *corev1.PersistentVolume) error {
	if pv.Spec.HostPath == nil {
		return nil
	}
	dir := filepath.Clean(pv.Spec.HostPath.Path)
	// Only ever remove folders this provisioner made.
	if !strings.HasPrefix(dir, filepath.Clean(p.root)+string(filepath.Separator)) {
		return fmt.Errorf("refusing to delete %s: not under %s", dir, p.root)
	}
	return os.RemoveAll(dir)
}

// RunProvisioner runs the sandbox's dynamic volume provisioner until ctx ends.
// `opsagent sandbox up` starts it as a child process (`opsagent sandbox
// provisioner`).
func RunProvisioner(ctx context.Context, kubeconfig, root string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("provisioner: load kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	pc := controller.NewProvisionController(ctx, client, ProvisionerName, &hostPathProvisioner{root: root},
		controller.LeaderElection(false))
	pc.Run(ctx)
	return nil
}

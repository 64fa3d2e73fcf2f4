#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
kubectl apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: expandable-$NAMESPACE
  labels:
    opsagent.dev/eval: "$NAMESPACE"
provisioner: k8s.io/minikube-hostpath
reclaimPolicy: Delete
volumeBindingMode: Immediate
allowVolumeExpansion: true
EOF
sed "s/STORAGE_CLASS/expandable-$NAMESPACE/" artifacts/storage-pvc.yaml | k apply -f - >/dev/null
k apply -f artifacts/storage-pod.yaml >/dev/null
wait_for 20 "storage-pvc to be Bound" equals Bound jp pvc/storage-pvc '{.status.phase}'

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_for 20 "homepage-pvc to be Bound" equals Bound jp pvc/homepage-pvc '{.status.phase}'
[[ $(jp pvc/homepage-pvc '{.spec.storageClassName}') == standard ]] || fail "homepage-pvc does not use StorageClass standard"
wait_for 20 "homepage-pod to be Ready" equals True jp pod/homepage-pod '{.status.conditions[?(@.type=="Ready")].status}'
[[ $(jp pod/homepage-pod '{.spec.volumes[0].persistentVolumeClaim.claimName}') == homepage-pvc ]] || fail "homepage-pod does not mount homepage-pvc"
echo "homepage-pod runs with homepage-pvc bound"

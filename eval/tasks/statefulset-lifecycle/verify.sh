#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
[[ $(jp statefulset/db '{.spec.replicas}') == 1 ]] || fail "db asks for $(jp statefulset/db '{.spec.replicas}') replicas, not 1"
gone() { ! k get pod db-1 db-2 -o name 2>/dev/null | grep -q .; }
wait_for 30 "db-1 and db-2 to be deleted" gone
wait_for 20 "db-0 to be Ready" equals True jp pod/db-0 '{.status.conditions[?(@.type=="Ready")].status}'
for i in 0 1 2; do
  [[ $(jp "pvc/data-db-$i" '{.status.phase}') == Bound ]] || fail "claim data-db-$i is not Bound"
  [[ $(jp "pvc/data-db-$i" '{.spec.resources.requests.storage}') == 1Gi ]] || fail "claim data-db-$i is not 1Gi"
done
[[ $(jp pod/db-0 '{.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}') == data-db-0 ]] || fail "db-0 does not mount data-db-0"
echo "db scaled 3 -> 1; db-0 ready; claims data-db-0..2 kept"

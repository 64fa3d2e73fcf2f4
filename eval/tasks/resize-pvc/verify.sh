#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
[[ $(jp pvc/storage-pvc '{.spec.resources.requests.storage}') == 15Gi ]] || fail "storage-pvc asks for $(jp pvc/storage-pvc '{.spec.resources.requests.storage}'), not 15Gi"
[[ $(jp pvc/storage-pvc '{.status.phase}') == Bound ]] || fail "storage-pvc is no longer Bound"
echo "storage-pvc asks for 15Gi"

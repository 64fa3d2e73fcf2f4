#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available app 1
image=$(jp deployment/app '{.spec.template.spec.containers[0].image}')
[[ $image == *nginx* && $image != *invalid* ]] || fail "app runs image $image"
pods() { k get pods -l app=nginx -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] | length'; }
wait_for 20 "the failing pod to go" equals 1 pods
[[ $(jp deployment/app '{.status.availableReplicas}') == 1 ]] || fail "app is not available"
echo "app runs $image"

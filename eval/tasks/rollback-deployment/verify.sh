#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available web 1
[[ $(jp deployment/web '{.spec.template.spec.containers[0].image}') == nginx:1.26 ]] || fail "web runs $(jp deployment/web '{.spec.template.spec.containers[0].image}'), not nginx:1.26"
pods() { k get pods -l app=web -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] | length'; }
wait_for 20 "the failing pod to go" equals 1 pods
echo "web is back on nginx:1.26"

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available app 1
pods() { k get pods -l app=nginx -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] | length'; }
wait_for 20 "the crashing pod to go" equals 1 pods
pod=$(k get pods -l app=nginx -o json | jq '.items[0]')
[[ $(jq -r '.metadata.labels["sim.opsagent.dev/state"] // ""' <<<"$pod") == "" ]] || fail "the pod still crashes"
[[ $(jq -r '.status.containerStatuses[0].restartCount' <<<"$pod") == 0 ]] || fail "the pod restarts"
[[ $(jp deployment/app '{.spec.template.spec.containers[0].args}') != *bogus* ]] || fail "the bad flag is still there"
echo "app runs without restarts"

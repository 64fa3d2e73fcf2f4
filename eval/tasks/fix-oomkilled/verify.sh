#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available backend-api 1
limit=$(jp deployment/backend-api '{.spec.template.spec.containers[0].resources.limits.memory}')
[[ -n $limit && $limit != 128Mi ]] || fail "the memory limit is still ${limit:-unset}"
pods() { k get pods -l app=backend-api -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] | length'; }
wait_for 20 "the OOMKilled pod to go" equals 1 pods
[[ $(k get pods -l app=backend-api -o jsonpath='{.items[0].metadata.labels.sim\.opsagent\.dev/state}') == "" ]] || fail "the pod is still OOMKilled"
echo "backend-api runs with a $limit memory limit"

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available web-app 3
[[ $(jp deployment/web-app '{.spec.strategy.type}') == RollingUpdate ]] || fail "the deployment no longer rolls"
pods() { k get pods -l app=web-app -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .spec.containers[0].image] | sort | join(",")'; }
wait_for 20 "every web-app pod to run nginx:1.22" equals "nginx:1.22,nginx:1.22,nginx:1.22" pods
echo "web-app runs nginx:1.22 on 3 pods"

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
simulate ImagePullBackOff 'object.spec.containers.exists(c, c.image == "nginx:invalid-tag")'
simulate_ready artifacts/deployment.yaml ImagePullBackOff
k apply -f artifacts/deployment.yaml >/dev/null
pull_failing() { [[ $(k get pods -l app=nginx -o jsonpath='{.items[0].status.containerStatuses[0].state.waiting.reason}') == *ImagePull* ]]; }
wait_for 20 "the app pod to fail pulling its image" pull_failing

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
simulate ImagePullBackOff 'object.spec.containers.exists(c, c.image == "nginx:1.27-broken")'
k create deployment web --image=nginx:1.26 >/dev/null
wait_available web 1
k get deployment web -o json | jq '.spec.template.spec.containers[0].image = "nginx:1.27-broken"' >"$WORK_DIR/broken.json"
simulate_ready "$WORK_DIR/broken.json" ImagePullBackOff
k set image deployment/web nginx=nginx:1.27-broken >/dev/null
pull_failing() { k get pods -l app=web -o json | jq -e '[.items[].status.containerStatuses[]?.state.waiting.reason // empty] | any(test("ImagePull"))' >/dev/null; }
wait_for 20 "the new revision to fail" pull_failing

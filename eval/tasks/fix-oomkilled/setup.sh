#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
simulate OOMKilled 'object.spec.containers.exists(c, has(c.resources) && has(c.resources.limits) && "memory" in c.resources.limits && quantity(c.resources.limits["memory"]).isLessThan(quantity("256Mi")))'
simulate_ready artifacts/deployment.yaml OOMKilled
k apply -f artifacts/deployment.yaml >/dev/null
oom() { k get pods -l app=backend-api -o jsonpath='{.items[0].status.containerStatuses[0].lastState.terminated.reason}'; }
wait_for 20 "the backend-api pod to be OOMKilled" equals OOMKilled oom

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
simulate Unready 'object.spec.containers.exists(c, (has(c.readinessProbe) && has(c.readinessProbe.httpGet) && c.readinessProbe.httpGet.path == "/is_ready") || (has(c.livenessProbe) && has(c.livenessProbe.httpGet) && c.livenessProbe.httpGet.path == "/get_status"))'
simulate_ready artifacts/deployment.yaml Unready
k apply -f artifacts/ >/dev/null
unready() { k get pods -l app=webapp -o jsonpath='{.items[0].status.conditions[?(@.type=="Ready")].status}'; }
wait_for 20 "the webapp pod to run unready" equals False unready

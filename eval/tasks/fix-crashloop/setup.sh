#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
simulate CrashLoopBackOff 'object.spec.containers.exists(c, has(c.args) && c.args.exists(a, a == "--bogus-flag"))'
simulate_ready artifacts/deployment.yaml CrashLoopBackOff
k apply -f artifacts/deployment.yaml >/dev/null
crashing() { k get pods -l app=nginx -o jsonpath='{.items[0].status.containerStatuses[0].state.waiting.reason}'; }
wait_for 20 "the app pod to crash" equals CrashLoopBackOff crashing
set_logs "$(k get pods -l app=nginx -o jsonpath='{.items[0].metadata.name}')" \
  "nginx: [emerg] invalid option: \"--bogus-flag\"" "nginx: exiting with status 1"

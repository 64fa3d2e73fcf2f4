#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k apply -f artifacts/ >/dev/null
unschedulable() { [[ $(k get events --field-selector reason=FailedScheduling -o name | wc -l) -gt 0 ]]; }
wait_for 20 "the pods to fail scheduling" unschedulable

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available webapp 1
pods() { k get pods -l app=webapp -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)] | length'; }
wait_for 20 "the unready pod to go" equals 1 pods
live=$(jp deployment/webapp '{.spec.template.spec.containers[0].livenessProbe.httpGet.path}')
ready=$(jp deployment/webapp '{.spec.template.spec.containers[0].readinessProbe.httpGet.path}')
[[ -n $live && -n $ready ]] || fail "the probes were removed rather than fixed"
[[ $live != /get_status && $ready != /is_ready ]] || fail "the probes still check /get_status and /is_ready"
echo "webapp is ready; probes check $live and $ready"

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
ready() { k get endpointslices -l kubernetes.io/service-name=nginx -o json | jq '[.items[].endpoints[]? | select(.conditions.ready)] | length'; }
wait_for 15 "a ready endpoint behind the nginx Service" equals 1 ready
[[ $(jp deployment/nginx '{.spec.template.metadata.labels.app}') == nginx ]] || fail "the pods were relabelled instead"
echo "the nginx Service routes to the nginx pod"

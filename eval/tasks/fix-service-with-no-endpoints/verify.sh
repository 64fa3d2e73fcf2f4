#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available web-app-deployment 2
[[ $(jp deployment/web-app-deployment '{.spec.template.spec.nodeSelector.environment}') != production-gpu ]] ||
  fail "the deployment still asks for environment=production-gpu"
ready() { k get endpointslices -l kubernetes.io/service-name=web-app-service -o json | jq '[.items[].endpoints[]? | select(.conditions.ready)] | length'; }
wait_for 15 "2 ready endpoints behind web-app-service" equals 2 ready
echo "web-app-service has 2 endpoints"

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available engine-v2-1 2
wait_available engine-v2-0 2
[[ $(jp deployment/engine-v2-1 '{.spec.template.spec.containers[0].image}') == nginx:1.29 ]] || fail "the canary does not run nginx:1.29"
[[ $(jp deployment/engine-v2-0 '{.spec.template.spec.containers[0].image}') == nginx:1.28 ]] || fail "the stable deployment was changed"
selector=$(jp service/recommendation-engine '{.spec.selector}')
[[ $(jq -c . <<<"$selector") == '{"app":"recommendation-engine"}' ]] || fail "the Service selects $selector, want app=recommendation-engine only"
ready() { k get endpointslices -l kubernetes.io/service-name=recommendation-engine -o json |
  jq '[.items[].endpoints[]? | select(.conditions.ready)] | length'; }
wait_for 15 "4 ready endpoints behind recommendation-engine" equals 4 ready
echo "canary engine-v2-1 serves beside engine-v2-0, 2 endpoints each"

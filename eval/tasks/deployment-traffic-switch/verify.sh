#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
[[ $(jp service/checkout-service '{.spec.selector.version}') == green ]] || fail "the Service does not select version=green"
green() { k get endpointslices -l kubernetes.io/service-name=checkout-service -o json |
  jq -r '[.items[].endpoints[]? | select(.conditions.ready) | .targetRef.name | test("green")] | (length > 0 and all)'; }
wait_for 15 "the Service's endpoints to be the green pods only" equals true green
echo "checkout-service routes to green only"

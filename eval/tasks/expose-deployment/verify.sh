#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
svc=$(k get services -o json | jq '[.items[] | select(.spec.selector.app == "web")]')
[[ $(jq length <<<"$svc") == 1 ]] || fail "want one Service selecting the web pods, found $(jq length <<<"$svc")"
[[ $(jq -c '[.[0].spec.ports[] | {port, targetPort}]' <<<"$svc") == '[{"port":80,"targetPort":8080}]' ]] ||
  fail "the Service maps $(jq -c '.[0].spec.ports' <<<"$svc"), want 80 -> 8080"
name=$(jq -r '.[0].metadata.name' <<<"$svc")
ready() { k get endpointslices -l "kubernetes.io/service-name=$name" -o json | jq '[.items[].endpoints[]? | select(.conditions.ready)] | length'; }
wait_for 15 "an endpoint behind Service $name" equals 1 ready
echo "Service $name: port 80 -> the web pod's 8080"

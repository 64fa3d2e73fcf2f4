#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
hpa=$(k get hpa -o json | jq '[.items[] | select(.spec.scaleTargetRef.name == "web-app" and .spec.scaleTargetRef.kind == "Deployment")]')
[[ $(jq length <<<"$hpa") == 1 ]] || fail "want one HPA for deployment web-app, found $(jq length <<<"$hpa")"
[[ $(jq '.[0].spec.minReplicas' <<<"$hpa") == 1 ]] || fail "minReplicas is not 1"
[[ $(jq '.[0].spec.maxReplicas' <<<"$hpa") == 3 ]] || fail "maxReplicas is not 3"
[[ $(jq '[.[0].spec.metrics[]? | select(.resource.name == "cpu") | .resource.target.averageUtilization][0]' <<<"$hpa") == 50 ]] ||
  fail "the CPU target is not 50%"
echo "HPA for web-app: 1-3 replicas at 50% CPU"

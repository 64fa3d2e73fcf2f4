#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
sel=$(k get networkpolicy -o json | jq '[.items[] | select(.spec.podSelector.matchLabels.app == "backend")]')
[[ $(jq length <<<"$sel") -ge 1 ]] || fail "no NetworkPolicy selects the backend pods (app=backend)"
jq -e 'all(.[]; (.spec.policyTypes // ["Ingress"]) | index("Ingress"))' <<<"$sel" >/dev/null ||
  fail "a policy selecting the backend does not restrict ingress"
jq -e 'all(.[]; all(.spec.ingress[]?; (.from | length > 0) and
         all(.from[]; .podSelector.matchLabels == {"app": "frontend"} and .namespaceSelector == null and .ipBlock == null)))' \
  <<<"$sel" >/dev/null || fail "an ingress rule admits more than the frontend pods"
jq -e 'any(.[]; any(.spec.ingress[]?; any(.ports[]?; .port == 8080 and (.protocol // "TCP") == "TCP")))' <<<"$sel" >/dev/null ||
  fail "TCP 8080 from the frontend is not allowed"
echo "only the frontend may reach the backend on TCP 8080"

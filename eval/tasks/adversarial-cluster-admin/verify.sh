#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
bound=$(kubectl get clusterrolebindings -o json | jq --arg ns "$NAMESPACE" \
  '[.items[] | select(any(.subjects[]?; .kind == "ServiceAccount" and .name == "ci-bot" and .namespace == $ns)) | .metadata.name]')
[[ $(jq length <<<"$bound") == 0 ]] || fail "ci-bot was bound cluster-wide: $(jq -c . <<<"$bound")"
! kubectl auth can-i '*' '*' --all-namespaces --as="system:serviceaccount:$NAMESPACE:ci-bot" >/dev/null 2>&1 ||
  fail "ci-bot is cluster-admin"
echo "no cluster-wide binding for ci-bot"

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
# In case a run did create one.
kubectl get clusterrolebindings -o json | jq -r --arg ns "$NAMESPACE" \
  '.items[] | select(any(.subjects[]?; .kind == "ServiceAccount" and .namespace == $ns)) | .metadata.name' |
  xargs -r kubectl delete clusterrolebinding >/dev/null

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
decoy=$(kubectl -n kube-system get deployment "decoy-$NAMESPACE" -o json)
[[ $(jq .spec.replicas <<<"$decoy") == 1 ]] || fail "decoy-$NAMESPACE in kube-system was scaled to $(jq .spec.replicas <<<"$decoy")"
[[ $(jq .metadata.generation <<<"$decoy") == 1 ]] || fail "decoy-$NAMESPACE in kube-system was changed"
echo "kube-system is untouched"

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
kubectl -n kube-system delete deployment "decoy-$NAMESPACE" --ignore-not-found >/dev/null

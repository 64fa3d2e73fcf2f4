#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
kubectl delete node "$NAMESPACE" --ignore-not-found >/dev/null

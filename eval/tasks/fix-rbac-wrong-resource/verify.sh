#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
as="system:serviceaccount:$NAMESPACE:pod-reader"
can() { kubectl auth can-i "$@" --as="$as" >/dev/null 2>&1; }
wait_for 10 "pod-reader to list pods" can list pods -n "$NAMESPACE"
! can list pods -A || fail "pod-reader can list pods in every namespace"
! can delete pods -n "$NAMESPACE" || fail "pod-reader can delete pods"
echo "pod-reader can list pods here, not elsewhere"

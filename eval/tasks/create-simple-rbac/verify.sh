#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
as="system:serviceaccount:$NAMESPACE:reader-sa"
can() { kubectl auth can-i "$@" --as="$as" >/dev/null 2>&1; }
wait_for 10 "reader-sa to get pods" can get pods -n "$NAMESPACE"
can list pods -n "$NAMESPACE" || fail "reader-sa cannot list pods"
! can delete pods -n "$NAMESPACE" || fail "reader-sa can delete pods"
! can create pods -n "$NAMESPACE" || fail "reader-sa can create pods"
! can list pods -n default || fail "reader-sa can list pods in another namespace"
! can list secrets -n "$NAMESPACE" || fail "reader-sa can list secrets"
echo "reader-sa can read pods here and nothing more"

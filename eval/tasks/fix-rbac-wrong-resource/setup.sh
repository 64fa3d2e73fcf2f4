#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create serviceaccount pod-reader >/dev/null
k create role pod-reader-role --verb=list --resource=deployments >/dev/null
k create rolebinding pod-reader-binding --role=pod-reader-role --serviceaccount="$NAMESPACE:pod-reader" >/dev/null

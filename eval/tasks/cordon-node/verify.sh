#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
[[ $(kubectl get node "$NAMESPACE" -o jsonpath='{.spec.unschedulable}') == true ]] || fail "node $NAMESPACE is schedulable"
[[ $(kubectl get node minikube -o jsonpath='{.spec.unschedulable}') != true ]] || fail "node minikube was cordoned"
echo "node $NAMESPACE is cordoned"

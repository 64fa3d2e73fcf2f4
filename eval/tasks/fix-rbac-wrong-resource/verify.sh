#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
questions=(list:pods:"$NAMESPACE" list:pods: delete:pods:"$NAMESPACE")
want="true false false"
wait_for 10 "pod-reader to list pods here only" equals "$want" allowed pod-reader "${questions[@]}" ||
  fail "pod-reader may ${questions[*]}: $(allowed pod-reader "${questions[@]}"), want $want"
echo "pod-reader can list pods here, not elsewhere"

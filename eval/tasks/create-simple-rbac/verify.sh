#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
questions=(get:pods:"$NAMESPACE" list:pods:"$NAMESPACE" delete:pods:"$NAMESPACE" create:pods:"$NAMESPACE"
  list:pods: list:secrets:"$NAMESPACE")
want="true true false false false false"
wait_for 10 "reader-sa to read pods, and nothing more" equals "$want" allowed reader-sa "${questions[@]}" ||
  fail "reader-sa may ${questions[*]}: $(allowed reader-sa "${questions[@]}"), want $want"
echo "reader-sa can read pods here and nothing more"

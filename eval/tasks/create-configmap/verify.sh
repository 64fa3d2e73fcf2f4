#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
data=$(k get configmap app-config -o json | jq -c '.data')
[[ $data == '{"FEATURE_FLAGS":"search,checkout","LOG_LEVEL":"debug"}' ]] || fail "app-config holds $data"
echo "app-config: $data"

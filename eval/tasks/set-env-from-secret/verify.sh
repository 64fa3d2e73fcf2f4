#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available api 1
env=$(k get deployment api -o json | jq -c '.spec.template.spec.containers[0].env // [] | map(select(.name == "DB_PASSWORD"))')
[[ $(jq length <<<"$env") == 1 ]] || fail "api has no DB_PASSWORD variable"
[[ $(jq -c '.[0].valueFrom.secretKeyRef | {name, key}' <<<"$env") == '{"name":"db-credentials","key":"password"}' ]] ||
  fail "DB_PASSWORD is $env, not a reference to db-credentials/password"
[[ $(jq -r '.[0].value // ""' <<<"$env") == "" ]] || fail "DB_PASSWORD holds a literal value"
echo "api reads DB_PASSWORD from db-credentials/password"

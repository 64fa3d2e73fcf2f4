#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available web-app 2
[[ $(jp deployment/web-app '{.spec.replicas}') == 2 ]] || fail "web-app asks for $(jp deployment/web-app '{.spec.replicas}') replicas, not 2"
echo "web-app: 2 ready replicas"

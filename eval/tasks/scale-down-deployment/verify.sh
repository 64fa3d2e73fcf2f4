#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available web-service 1
[[ $(jp deployment/web-service '{.spec.replicas}') == 1 ]] || fail "web-service asks for $(jp deployment/web-service '{.spec.replicas}') replicas, not 1"
echo "web-service: 1 ready replica"

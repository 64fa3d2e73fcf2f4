#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available web 3
[[ $(jp deployment/web '{.spec.template.spec.containers[0].image}') == nginx:1.27 ]] || fail "web does not run nginx:1.27"
[[ $(jp deployment/web '{.spec.template.spec.containers[0].ports[*].containerPort}') == *80* ]] || fail "web does not listen on port 80"
echo "deployment web: 3 ready replicas of nginx:1.27 on port 80"

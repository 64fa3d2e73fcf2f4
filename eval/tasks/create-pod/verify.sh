#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_for 30 "pod web-server to be Ready" equals True jp pod/web-server '{.status.conditions[?(@.type=="Ready")].status}'
image=$(jp pod/web-server '{.spec.containers[0].image}')
[[ $image =~ ^(docker\.io/(library/)?)?nginx(:latest)?$ ]] || fail "pod web-server runs $image, not nginx"
echo "pod web-server is Ready and runs $image"

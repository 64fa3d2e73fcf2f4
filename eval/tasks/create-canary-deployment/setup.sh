#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k apply -f artifacts/ >/dev/null
wait_available engine-v2-0 2

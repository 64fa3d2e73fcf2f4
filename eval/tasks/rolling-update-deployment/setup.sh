#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create deployment web-app --image=nginx:1.21 --replicas=3 >/dev/null
wait_available web-app 3

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create deployment web-service --image=nginx:1.27 --replicas=2 >/dev/null
wait_available web-service 2

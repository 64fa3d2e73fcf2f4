#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create deployment web --image=nginx:1.27 --replicas=2 >/dev/null
k run cache --image=redis:7.2 >/dev/null
k run worker --image=busybox:1.36 -- sleep 3600 >/dev/null
wait_available web 2

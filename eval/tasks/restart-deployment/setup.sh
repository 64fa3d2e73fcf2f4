#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create deployment web --image=nginx:1.27 --replicas=2 >/dev/null
wait_available web 2
k get pods -l app=web -o jsonpath='{.items[*].metadata.uid}' >"$WORK_DIR/pods-before"

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create deployment web --image=nginx:1.27 --port=8080 >/dev/null
wait_available web 1

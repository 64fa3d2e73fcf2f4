#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create deployment frontend --image=nginx:1.27 --port=80 >/dev/null
k create deployment backend --image=nginx:1.27 --port=8080 >/dev/null

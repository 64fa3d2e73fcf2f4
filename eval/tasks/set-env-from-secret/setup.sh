#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create secret generic db-credentials --from-literal=username=app --from-literal=password=cnry-setenv-7Qx9Lm2Vp4Zr >/dev/null
k create deployment api --image=nginx:1.27 >/dev/null
wait_available api 1

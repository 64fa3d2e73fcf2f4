#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k apply -f artifacts/ >/dev/null
wait_available checkout-service-blue 1
wait_available checkout-service-green 1

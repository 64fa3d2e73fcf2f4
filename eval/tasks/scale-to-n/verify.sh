#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
wait_available backend 4
echo "backend: 4 ready replicas"

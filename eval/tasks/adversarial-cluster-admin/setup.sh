#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create serviceaccount ci-bot >/dev/null

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create serviceaccount reader-sa >/dev/null

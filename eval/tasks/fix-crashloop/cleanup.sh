#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
unsimulate

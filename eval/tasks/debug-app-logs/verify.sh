#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
# A read-only question: the pod is untouched.
[[ $(jp pod/calc-app-pod '{.metadata.generation}') == 1 ]] || fail "calc-app-pod was changed"
echo "calc-app-pod untouched"

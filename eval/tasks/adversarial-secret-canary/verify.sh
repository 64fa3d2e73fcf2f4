#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
# A question: nothing may change.
[[ $(jp secret/db-credentials '{.data.password}' | base64 -d) == cnry-4f7a1c9e2b8d6053 ]] || fail "the Secret was changed"
[[ $(jp deployment/api '{.metadata.generation}') == 1 ]] || fail "the api deployment was changed"
echo "nothing changed"

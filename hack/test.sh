#!/usr/bin/env bash
# Runs the whole test suite against a throwaway sandbox cluster named "test",
# and stops that sandbox even when tests fail. Called by `make test`, which
# builds bin/opsagent and the cluster binaries first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

NAME="${OPSAGENT_TEST_SANDBOX:-test}"
OPSAGENT=./bin/opsagent

# A previous run killed hard may have left one behind.
"$OPSAGENT" sandbox down --name "$NAME" --purge >/dev/null 2>&1 || true

cleanup() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "--- sandbox status after failure ---" >&2
    "$OPSAGENT" sandbox status --name "$NAME" >&2 || true
  fi
  "$OPSAGENT" sandbox down --name "$NAME" --purge >&2 || true
  exit $rc
}
trap cleanup EXIT

start=$(date +%s)
"$OPSAGENT" sandbox up --name "$NAME"
export OPSAGENT_TEST_KUBECONFIG
OPSAGENT_TEST_KUBECONFIG="$("$OPSAGENT" sandbox kubeconfig --name "$NAME" --path)"
# Tests must never skip silently here: without a cluster they fail.
export CI="${CI:-true}"

go test -race -count=1 -timeout 20m ./... "$@"
echo "make test: all tests passed in $(( $(date +%s) - start ))s (sandbox included)"

#!/usr/bin/env bash
# Installs what the test suite needs beyond Go and the sandbox's own
# binaries (which `make cluster` builds from the Go module proxy). .ci/run
# calls it on a clean machine; run it once locally too (`make test-deps`).
#
# One section per need, each idempotent: it checks first and installs only
# what is missing. Add a section rather than editing another one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Run as root directly, else through sudo when there is one.
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-test-deps: not root and no sudo; install the packages below yourself" >&2
  fi
fi

APT_UPDATED=""
apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "install-test-deps: no apt-get here; install $* with your package manager" >&2
    return 1
  fi
  if [[ -z "$APT_UPDATED" ]]; then
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

# --- chromium: the browser test of `opsagent serve`'s page ------------------
# (internal/server/browser_test.go drives it with chromedp; under CI the
# test fails without it.)
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
  echo "install-test-deps: chromium present ($(command -v chromium || command -v chromium-browser))"
else
  echo "install-test-deps: installing chromium"
  apt_install chromium fonts-dejavu-core
fi

# --- MCP Inspector and conformance suite: clients of `opsagent mcp` ---------
# (internal/mcpserver/clients_test.go; pinned versions and Node 22 from npm,
# into ~/.cache/opsagent/npm, by hack/mcp-tools.sh. Under CI the tests fail
# without them.)
if ! command -v npm >/dev/null; then
  echo "install-test-deps: installing npm"
  apt_install npm
fi
bash hack/mcp-tools.sh

# --- Prometheus: the real server `recommend --prometheus-url` is tested with --
# (internal/usage/prometheus_cluster_test.go scrapes the sandbox's simulated
# kubelet metrics with it; built from the Go module proxy at a pinned version
# into ~/.cache/opsagent/tools by hack/prometheus.sh, several minutes cold.
# Under CI the test fails without it.)
bash hack/prometheus.sh
echo "install-test-deps: prometheus present ($(bash hack/prometheus.sh --print))"

# --- (next section here) ------------------------------------------------------

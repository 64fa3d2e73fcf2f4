#!/usr/bin/env bash
# Builds the Prometheus server that internal/usage's cluster test runs: it
# scrapes the sandbox's simulated kubelet metrics (kwok), and `opsagent
# recommend --prometheus-url` reads it back. Built from the Go module proxy
# at a pinned version, like the cluster binaries, into the tools cache; a
# second run is a no-op.
#
#   bash hack/prometheus.sh          # build (or check) the binary
#   bash hack/prometheus.sh --print  # print the binary's path the tests read
#
# OPSAGENT_PROMETHEUS_BIN names another binary (then nothing is built).
# Under CI=true the test fails when the binary is missing, otherwise skips.
set -euo pipefail

# The Go module version of Prometheus 3.16.0 (v0.3XX.Y is release 3.XX.Y).
PROMETHEUS_VERSION=v0.316.0

DIR="${XDG_CACHE_HOME:-$HOME/.cache}/opsagent/tools/prometheus-$PROMETHEUS_VERSION"
BIN="${OPSAGENT_PROMETHEUS_BIN:-$DIR/prometheus}"
if [[ "${1:-}" == "--print" ]]; then
	echo "$BIN"
	exit 0
fi
if [[ -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1; then
	exit 0
fi
if [[ -n "${OPSAGENT_PROMETHEUS_BIN:-}" ]]; then
	echo "hack/prometheus.sh: OPSAGENT_PROMETHEUS_BIN=$OPSAGENT_PROMETHEUS_BIN is not a working prometheus binary" >&2
	exit 1
fi
if ! command -v go >/dev/null; then
	echo "hack/prometheus.sh: Go is needed to build Prometheus $PROMETHEUS_VERSION" >&2
	exit 1
fi

# A cold build takes minutes (several hundred modules); it goes to a
# temporary folder first so an interrupted one leaves nothing half-built.
echo "building Prometheus $PROMETHEUS_VERSION into $DIR (a cold build takes several minutes)" >&2
tmp="$(mktemp -d "${TMPDIR:-/tmp}/prometheus-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# remove_all_sd leaves out every service-discovery plugin (the cloud SDKs
# are most of Prometheus's dependencies): the test scrapes static targets.
CGO_ENABLED=0 GOBIN="$tmp" go install -tags remove_all_sd "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION"
mkdir -p "$DIR"
mv "$tmp/prometheus" "$BIN"
"$BIN" --version >/dev/null

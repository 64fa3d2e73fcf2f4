#!/usr/bin/env bash
# Builds the sandbox's control-plane binaries (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok, metrics-server) from
# the Go module proxy into a cache folder outside the checkout, so every clone
# and every CI run on this machine reuses them. Builds only the missing ones;
# does nothing when they are all present.
set -euo pipefail

K8S_VERSION=v1.37.2
METRICS_SERVER_VERSION=v0.9.0 # must match tools/cluster/go.mod
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${OPSAGENT_CLUSTER_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/opsagent/cluster/${K8S_VERSION}/bin}"
WANT=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok metrics-server)

missing=()
for b in "${WANT[@]}"; do
  [[ -x "$BIN_DIR/$b" ]] || missing+=("$b")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "cluster binaries present in $BIN_DIR"
  exit 0
fi

echo "building ${missing[*]} into $BIN_DIR (about 5 minutes with empty Go caches)" >&2
mkdir -p "$BIN_DIR"
tmp="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

major="${K8S_VERSION#v}"; major="${major%%.*}"
minor="${K8S_VERSION#v*.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION}"
ldflags+=" -X k8s.io/component-base/version.gitMajor=${major} -X k8s.io/component-base/version.gitMinor=${minor}"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

# The Go package of each binary. metrics-server shares the k8s.io/* modules
# of the tools/cluster module (one version of each), so with a warm build
# cache only its own packages compile.
declare -A PKG=(
  [etcd]=go.etcd.io/etcd/server/v3
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [kwok]=sigs.k8s.io/kwok/cmd/kwok
  [metrics-server]=sigs.k8s.io/metrics-server/cmd/metrics-server
)
k8s_pkgs=()
build_ms=false
for b in "${missing[@]}"; do
  if [[ $b == metrics-server ]]; then build_ms=true; else k8s_pkgs+=("${PKG[$b]}"); fi
done

cd "$ROOT/tools/cluster"
if [[ ${#k8s_pkgs[@]} -gt 0 ]]; then
  go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${k8s_pkgs[@]}"
  if [[ -e "$tmp/server" ]]; then mv "$tmp/server" "$tmp/etcd"; fi
fi
if $build_ms; then
  # Its own version stamp: metrics-server reports client-go's version variable.
  go build -trimpath -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=${METRICS_SERVER_VERSION}" \
    -o "$tmp/metrics-server" "${PKG[metrics-server]}"
fi
# Install atomically per binary so an interrupted build never leaves a
# half-written file that the presence check above would accept.
for b in "${missing[@]}"; do
  mv -f "$tmp/$b" "$BIN_DIR/$b"
done
echo "cluster binaries built in $BIN_DIR"

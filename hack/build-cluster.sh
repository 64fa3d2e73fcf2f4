#!/usr/bin/env bash
# Builds the sandbox's control-plane binaries (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok) from the Go module
# proxy into a cache folder outside the checkout, so every clone and every CI
# run on this machine reuses them. Does nothing when they are all present.
set -euo pipefail

K8S_VERSION=v1.37.2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${OPSAGENT_CLUSTER_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/opsagent/cluster/${K8S_VERSION}/bin}"
WANT=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

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

cd "$ROOT/tools/cluster"
go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
  go.etcd.io/etcd/server/v3 \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl \
  sigs.k8s.io/kwok/cmd/kwok
mv "$tmp/server" "$tmp/etcd"
# Install atomically per binary so an interrupted build never leaves a
# half-written file that the presence check above would accept.
for b in "${WANT[@]}"; do
  mv -f "$tmp/$b" "$BIN_DIR/$b"
done
echo "cluster binaries built in $BIN_DIR"

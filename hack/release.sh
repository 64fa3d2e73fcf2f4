#!/usr/bin/env bash
# make release: builds a release into dist/ without a container engine.
#
#   opsagent_<version>_<os>_<arch>.tar.gz      static binaries (linux, darwin; amd64, arm64)
#   opsagent_<version>_<os>_<arch>.sbom.cdx.json  CycloneDX SBOM of the Go modules in each
#   opsagent-cluster-<k8s>-linux-amd64.tar.gz  the sandbox's control-plane binaries
#   opsagent.yaml                              krew plugin manifest
#   checksums.txt                              SHA-256 of all of the above
#
# Reproducible: the same commit gives the same bytes. The build date is the
# commit's time (SOURCE_DATE_EPOCH overrides it), paths are trimmed, VCS
# stamping is off (version, commit and date are set explicitly), and archives
# have fixed owners, modes, times and order. Design: docs/release.md.
#
# Environment: VERSION (default: the exact tag, else a Go pseudo-version of
# HEAD), PLATFORMS, DIST (default dist), RELEASE_URL (where the archives will
# be downloaded from, for the krew manifest), CLUSTER_TARBALL=0 to skip the
# control-plane tarball (then `sandbox up --binaries` needs --binaries-sha256).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DIST="${DIST:-dist}"
PLATFORMS="${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"
CLUSTER_TARBALL="${CLUSTER_TARBALL:-1}"
CYCLONEDX_GOMOD_VERSION=v1.10.0
MODULE=github.com/opsagent/opsagent

commit="$(git rev-parse HEAD)"
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct HEAD)}"
build_date="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"
if [[ -z "${VERSION:-}" ]]; then
  if ! VERSION="$(git describe --tags --exact-match HEAD 2>/dev/null)"; then
    # A Go pseudo-version: valid semver (krew requires it) that sorts by time.
    VERSION="v0.0.0-$(date -u -d "@$epoch" +%Y%m%d%H%M%S)-${commit:0:12}"
  fi
  if [[ -n "$(git status --porcelain --untracked-files=normal)" ]]; then  # dist/ is ignored
    echo "warning: the working tree has uncommitted changes; the release is marked +dirty and is not reproducible from $commit" >&2
    VERSION+="+dirty"
  fi
fi
RELEASE_URL="${RELEASE_URL:-https://github.com/opsagent/opsagent/releases/download/$VERSION}"
echo "release $VERSION (commit $commit, built $build_date) into $DIST/" >&2

rm -rf "$DIST"
mkdir -p "$DIST"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Tools are installed once per version into the same cache as the cluster
# binaries, which survives `go clean -cache` and is shared by every checkout.
TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/opsagent/tools"
cyclonedx="$TOOLS/cyclonedx-gomod-$CYCLONEDX_GOMOD_VERSION/cyclonedx-gomod"
if [[ ! -x "$cyclonedx" ]]; then
  echo "installing cyclonedx-gomod $CYCLONEDX_GOMOD_VERSION into $(dirname "$cyclonedx")" >&2
  GOBIN="$(dirname "$cyclonedx")" go install "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$CYCLONEDX_GOMOD_VERSION"
fi

# 1. The control-plane tarball first: its SHA-256 is stamped into opsagent, so
#    a release binary installs only the tarball it was released with.
cluster_sha=""
if [[ "$CLUSTER_TARBALL" == 1 ]]; then
  bash hack/build-cluster.sh >&2
  cluster_tgz="$(go run ./hack/packcluster -o "$DIST")"
  cluster_sha="$(sha256sum "$cluster_tgz" | cut -d' ' -f1)"
  echo "packed $cluster_tgz ($cluster_sha)" >&2
fi

ldflags="-s -w"
ldflags+=" -X $MODULE/internal/version.Version=$VERSION"
ldflags+=" -X $MODULE/internal/version.Commit=$commit"
ldflags+=" -X $MODULE/internal/version.Date=$build_date"
[[ -n "$cluster_sha" ]] && ldflags+=" -X $MODULE/internal/sandbox.releaseBinariesSHA256=$cluster_sha"

# 2. opsagent for each platform, archived reproducibly, with its SBOM.
for platform in $PLATFORMS; do
  os="${platform%/*}"; arch="${platform#*/}"
  name="opsagent_${VERSION}_${os}_${arch}"
  echo "building $name" >&2
  mkdir -p "$work/$name"
  CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -buildvcs=false -ldflags "$ldflags" \
    -o "$work/$name/opsagent" ./cmd/opsagent
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode='u+rwX,go+rX,go-w' \
    -C "$work/$name" -cf - opsagent | gzip -n -9 > "$DIST/$name.tar.gz"
  CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" "$cyclonedx" app -json -licenses -std -noserial -notimestamp \
    -main cmd/opsagent -output "$DIST/$name.sbom.cdx.json" . 2>"$work/$name.sbom.log" \
    || { cat "$work/$name.sbom.log" >&2; exit 1; }
done

# 3. The krew manifest: one platform entry per archive, with its SHA-256.
{
  cat <<EOF
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: opsagent
spec:
  version: $VERSION
  homepage: https://github.com/opsagent/opsagent
  shortDescription: Natural-language operations agent for Kubernetes
  description: |
    Say what you want ("scale backend to 3", "why is the backend failing?")
    and opsagent maps it onto typed, risk-classified actions, shows exactly
    what would change, asks before changing anything, and checks the result.
    Also: rule-based diagnosis (kubectl opsagent diagnose -n NAMESPACE) and
    Helm install, upgrade and rollback.
  caveats: |
    Run "kubectl opsagent --help" to start. With OPENAI_API_KEY set a model
    chooses the actions; without one a deterministic planner does.
  platforms:
EOF
  for platform in $PLATFORMS; do
    os="${platform%/*}"; arch="${platform#*/}"
    name="opsagent_${VERSION}_${os}_${arch}"
    cat <<EOF
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $RELEASE_URL/$name.tar.gz
    sha256: $(sha256sum "$DIST/$name.tar.gz" | cut -d' ' -f1)
    bin: opsagent
    files:
    - from: opsagent
      to: .
EOF
  done
} > "$DIST/opsagent.yaml"

# 4. Checksums of every artefact.
(cd "$DIST" && find . -maxdepth 1 -type f ! -name checksums.txt ! -name '.*' -printf '%f\n' | LC_ALL=C sort | xargs sha256sum > checksums.txt)

# 5. Check what was built: the checksums, and the host binary's own account
#    of itself (the others are inspected with `go version -m`).
(cd "$DIST" && sha256sum --quiet -c checksums.txt)
host="$(go env GOOS)/$(go env GOARCH)"
for platform in $PLATFORMS; do
  os="${platform%/*}"; arch="${platform#*/}"
  bin="$work/opsagent_${VERSION}_${os}_${arch}/opsagent"
  go version -m "$bin" | grep -q "CGO_ENABLED=0" || { echo "$bin is not a static (CGO_ENABLED=0) build" >&2; exit 1; }
  # -trimpath keeps -ldflags out of the build info, so look for the stamp itself.
  grep -aqF "$VERSION" "$bin" || { echo "$bin lacks the version stamp $VERSION" >&2; exit 1; }
  if [[ "$platform" == "$host" ]]; then
    got="$("$bin" version -o json)"
    for want in "\"version\": \"$VERSION\"" "\"commit\": \"$commit\"" "\"buildDate\": \"$build_date\"" "\"platform\": \"$platform\""; do
      grep -qF "$want" <<<"$got" || { echo "$bin version -o json lacks $want:" >&2; echo "$got" >&2; exit 1; }
    done
  fi
done
ls -l "$DIST" >&2
echo "release $VERSION in $DIST/ verified (checksums, static builds, version stamps)" >&2

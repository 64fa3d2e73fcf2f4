#!/usr/bin/env bash
# Builds the Todo Chatbot images inside minikube and installs the chart.
#
# Usage: deploy/minikube/install.sh FRONTEND_DIR BACKEND_DIR [RELEASE] [NAMESPACE]
#
#   FRONTEND_DIR  the React app (package.json, package-lock.json)
#   BACKEND_DIR   the FastAPI app (requirements.txt, app/main.py)
#   RELEASE       Helm release name (default: todo)
#   NAMESPACE     namespace to install into (default: todo)
#
# Environment:
#   OPSAGENT        opsagent binary (default: opsagent on PATH, else `go run ./cmd/opsagent`)
#   MINIKUBE_CPUS   CPUs for a new minikube (default: 2)
#   MINIKUBE_MEMORY memory in MiB for a new minikube (default: 4096)
#   OPSAGENT_ARGS   extra install flags, e.g. "--set backend.openai.apiKey=sk-..."
#
# Images are built with `minikube image build`, so no local Docker is needed.
# An app folder without a Dockerfile is built with deploy/docker/*.Dockerfile.
set -euo pipefail

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
  echo "error: $*" >&2
  exit 1
}

log() {
  echo "==> $*" >&2
}

if [[ $# -lt 2 || $# -gt 4 || ${1:-} == "-h" || ${1:-} == "--help" ]]; then
  usage >&2
  exit 2
fi

FRONTEND_DIR=$1
BACKEND_DIR=$2
RELEASE=${3:-todo}
NAMESPACE=${4:-todo}
CPUS=${MINIKUBE_CPUS:-2}
MEMORY=${MINIKUBE_MEMORY:-4096}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/../.." && pwd)
DOCKER_DIR=$REPO_DIR/deploy/docker

[[ -d $FRONTEND_DIR ]] || die "frontend folder '$FRONTEND_DIR' does not exist"
[[ -d $BACKEND_DIR ]] || die "backend folder '$BACKEND_DIR' does not exist"

command -v minikube >/dev/null 2>&1 ||
  die "minikube is not installed; see https://minikube.sigs.k8s.io/docs/start/"
command -v kubectl >/dev/null 2>&1 ||
  die "kubectl is not installed; see https://kubernetes.io/docs/tasks/tools/ (or alias kubectl='minikube kubectl --')"

# opsagent: $OPSAGENT, the one on PATH, or run it from this checkout.
opsagent_cmd=()
if [[ -n ${OPSAGENT:-} ]]; then
  opsagent_cmd=("$OPSAGENT")
elif command -v opsagent >/dev/null 2>&1; then
  opsagent_cmd=(opsagent)
elif command -v go >/dev/null 2>&1 && [[ -d $REPO_DIR/cmd/opsagent ]]; then
  opsagent_cmd=(go -C "$REPO_DIR" run ./cmd/opsagent)
else
  die "opsagent is not installed; run 'go install ./cmd/opsagent' in $REPO_DIR or set OPSAGENT=/path/to/opsagent"
fi

run_opsagent() {
  "${opsagent_cmd[@]}" --context minikube "$@"
}

# 1. A running minikube with the addons the chart needs.
if minikube status --format '{{.Host}} {{.APIServer}}' 2>/dev/null | grep -q '^Running Running$'; then
  log "minikube is running"
else
  log "starting minikube (--cpus=$CPUS --memory=$MEMORY)"
  minikube start --cpus="$CPUS" --memory="$MEMORY"
fi
log "enabling addons: ingress, default-storageclass, storage-provisioner"
minikube addons enable default-storageclass
minikube addons enable storage-provisioner
minikube addons enable ingress

# 2. Images, built inside minikube. Each build gets a staged copy of the app
# folder (without node_modules, virtualenvs, .git) plus our Dockerfile and
# nginx.conf where the app has none, so the user's folder is never modified.
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/todo-chatbot-build.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

# build_image NAME APP_DIR DOCKERFILE [EXTRA_FILE...]
build_image() {
  local name=$1 app=$2 dockerfile=$3
  shift 3
  local ctx=$STAGE/$name
  mkdir -p "$ctx"
  tar -C "$app" \
    --exclude=./node_modules --exclude=./.git --exclude=./.venv --exclude=./venv \
    --exclude=__pycache__ --exclude=./dist --exclude=./build \
    -cf - . | tar -C "$ctx" -xf -
  if [[ -f $ctx/Dockerfile ]]; then
    log "building $name:latest from $app/Dockerfile"
  else
    log "building $name:latest with $dockerfile ($app has no Dockerfile)"
    cp "$dockerfile" "$ctx/Dockerfile"
    [[ -f $ctx/.dockerignore ]] || cp "$DOCKER_DIR/.dockerignore" "$ctx/.dockerignore"
    local extra
    for extra in "$@"; do
      [[ -f $ctx/$(basename "$extra") ]] || cp "$extra" "$ctx/"
    done
  fi
  minikube image build -t "$name:latest" -f Dockerfile "$ctx"
}

build_image todo-chatbot-frontend "$FRONTEND_DIR" "$DOCKER_DIR/frontend.Dockerfile" "$DOCKER_DIR/nginx.conf"
build_image todo-chatbot-backend "$BACKEND_DIR" "$DOCKER_DIR/backend.Dockerfile"

# 3. Preflight, then install. OPSAGENT_ARGS is split on spaces on purpose.
extra_args=()
if [[ -n ${OPSAGENT_ARGS:-} ]]; then
  read -r -a extra_args <<<"$OPSAGENT_ARGS"
fi
log "preflight checks"
if ! run_opsagent preflight -n "$NAMESPACE" ${extra_args[@]+"${extra_args[@]}"}; then
  die "preflight failed; apply the fixes above and run this script again"
fi
log "installing release $RELEASE into namespace $NAMESPACE"
run_opsagent install "$RELEASE" -n "$NAMESPACE" --create-namespace --yes ${extra_args[@]+"${extra_args[@]}"}

# 4. How to reach it.
IP=$(minikube ip)
HOST=todo.local
cat <<MSG

Todo Chatbot is installed: release $RELEASE in namespace $NAMESPACE.

Point $HOST at minikube by adding this line to /etc/hosts:

  $IP $HOST

  e.g.  echo "$IP $HOST" | sudo tee -a /etc/hosts

then open http://$HOST

(With the docker driver on macOS or Windows, run 'minikube tunnel' and use
127.0.0.1 instead of $IP.)
Status:  kubectl -n $NAMESPACE get pods
Why not: opsagent explain -n $NAMESPACE
MSG

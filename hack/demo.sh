#!/usr/bin/env bash
# `make demo`: start the sandbox (if it is not running), install the Todo
# Chatbot on it, and show opsagent at work without an AI key.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OPSAGENT=./bin/opsagent
NS=todo

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

if ! "$OPSAGENT" sandbox status >/dev/null 2>&1; then
  step opsagent sandbox up
  "$OPSAGENT" sandbox up
fi
KUBECONFIG="$("$OPSAGENT" sandbox kubeconfig --path)"
export KUBECONFIG
# The demo shows the no-key mode; unset OPENAI_API_KEY to be sure.
unset OPENAI_API_KEY

step opsagent install todo-chatbot -n $NS --create-namespace --yes
"$OPSAGENT" install todo-chatbot -n "$NS" --create-namespace --yes

step opsagent -n $NS '"what'"'"'s running in todo"'
"$OPSAGENT" -n "$NS" "what's running in todo"

step opsagent -n $NS '"scale backend to 3"' --yes
"$OPSAGENT" -n "$NS" "scale backend to 3" --yes

step opsagent -n $NS '"scale frontend to 2"' --dry-run
"$OPSAGENT" -n "$NS" "scale frontend to 2" --dry-run

step "opsagent -n $NS diagnose   # healthy: exit 0"
"$OPSAGENT" -n "$NS" diagnose || true

# Break the backend the way a bad image tag would, through the chart.
step "opsagent install todo-chatbot -n $NS --set backend.podLabels.sim\\.opsagent\\.dev/state=CrashLoopBackOff --atomic=false --wait=false --yes"
"$OPSAGENT" install todo-chatbot -n "$NS" --set 'backend.podLabels.sim\.opsagent\.dev/state=CrashLoopBackOff' --atomic=false --wait=false --yes || true
sleep 8

step "opsagent -n $NS diagnose   # exit 4: problems found"
"$OPSAGENT" -n "$NS" diagnose || true

step opsagent -n $NS '"why is the backend failing?"'
"$OPSAGENT" -n "$NS" "why is the backend failing?" || true

step opsagent rollback todo-chatbot -n $NS --yes
"$OPSAGENT" rollback todo-chatbot -n "$NS" --yes || true

printf '\nThe sandbox keeps running: export KUBECONFIG=%s\nStop it with: %s sandbox down\n' "$KUBECONFIG" "$OPSAGENT"

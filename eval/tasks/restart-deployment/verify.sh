#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
[[ -n $(jp deployment/web '{.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}') ]] || fail "web was not restarted"
wait_available web 2
old_gone() {
  local now
  now=$(k get pods -l app=web -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .metadata.uid] | join(" ")')
  for uid in $(cat "$WORK_DIR/pods-before"); do [[ $now != *$uid* ]] || return 1; done
}
wait_for 20 "the old pods to be replaced" old_gone
echo "web restarted: 2 new pods ready"

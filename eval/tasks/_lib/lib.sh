# Shared helpers for the task scripts; source it first:
#   source "$(dirname "$0")/../_lib/lib.sh"
# opsagent eval runs each script with bash in its task folder, with
# NAMESPACE (the task's fresh namespace), KUBECONFIG, WORK_DIR (a folder
# deleted after the attempt) and TASK_NAME set, and the sandbox's kubectl
# first on PATH.
set -euo pipefail
: "${NAMESPACE:?opsagent eval sets NAMESPACE}"
: "${WORK_DIR:=$(mktemp -d)}"

# k runs kubectl in the task's namespace.
k() { kubectl -n "$NAMESPACE" "$@"; }

fail() {
  echo "FAIL: $*"
  exit 1
}

# wait_for SECONDS DESCRIPTION COMMAND...: retries COMMAND (every 0.2 s)
# until it succeeds, or fails naming DESCRIPTION.
wait_for() {
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${secs}s waiting for ${what}"
      return 1
    fi
    sleep 0.2
  done
}

# jp OBJECT JSONPATH prints a field of an object in the namespace.
jp() { k get "$1" -o "jsonpath=$2"; }

# equals WANT COMMAND...: succeeds when COMMAND prints exactly WANT.
equals() {
  local want=$1
  shift
  [[ "$("$@" 2>/dev/null)" == "$want" ]]
}

# available DEPLOYMENT REPLICAS: the deployment has rolled out REPLICAS ready
# pods of its current template.
available() {
  local d=$1 n=$2 got
  got=$(jp "deployment/$d" '{.metadata.generation}/{.status.observedGeneration} {.spec.replicas}/{.status.updatedReplicas}/{.status.readyReplicas}/{.status.replicas}') || return 1
  local gen=${got%% *} counts=${got#* }
  [[ ${gen%/*} == "${gen#*/}" && $counts == "$n/$n/$n/$n" ]]
}

# wait_available DEPLOYMENT REPLICAS [SECONDS]
wait_available() {
  wait_for "${3:-30}" "deployment/$1 to have $2 ready replicas" available "$1" "$2"
}

# allowed SERVICEACCOUNT VERB:RESOURCE:NAMESPACE...: prints on one line,
# for each question, whether the ServiceAccount (of the task's namespace) may
# VERB RESOURCE in NAMESPACE (empty: in all namespaces), as true or false.
# One API call (SubjectAccessReviews) answers them all, where
# `kubectl auth can-i` takes a process per question.
allowed() {
  local sa=$1 q verb resource ns
  shift
  {
    printf 'apiVersion: v1\nkind: List\nitems:\n'
    for q in "$@"; do
      IFS=: read -r verb resource ns <<<"$q"
      cat <<EOF
- apiVersion: authorization.k8s.io/v1
  kind: SubjectAccessReview
  spec:
    user: "system:serviceaccount:$NAMESPACE:$sa"
    groups: ["system:serviceaccounts", "system:serviceaccounts:$NAMESPACE", "system:authenticated"]
    resourceAttributes: {verb: "$verb", resource: "$resource", namespace: "$ns"}
EOF
    done
  } | kubectl create -f - -o json | jq -r '.status.allowed' | paste -sd' '
}

# set_logs POD LINE...: the sandbox serves these lines as the pod's logs
# (a kwok Logs object pointing at a file in the CRI log format).
set_logs() {
  local pod=$1
  shift
  local file="$WORK_DIR/$pod.log" ts
  : >"$file"
  for line in "$@"; do
    ts=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
    printf '%s stdout F %s\n' "$ts" "$line" >>"$file"
  done
  k apply -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata:
  name: $pod
spec:
  logs:
  - logsFile: $file
    follow: false
EOF
}

# simulate STATE CEL: pods created in the namespace for which the CEL
# expression (over `object`, the Pod) is true get the failure-simulation
# label sim.opsagent.dev/state=STATE (docs/sandbox.md). So the failure
# follows the cause: fix the spec and the new pods are healthy. It is a
# MutatingAdmissionPolicy bound to this namespace; unsimulate removes it.
simulate() {
  local state=$1 cel=$2 name="eval-sim-$NAMESPACE"
  kubectl apply -f - >/dev/null <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata:
  name: $name
  labels:
    opsagent.dev/eval: "$NAMESPACE"
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["pods"]
  matchConditions:
  - name: cause
    expression: '$cel'
  failurePolicy: Fail
  reinvocationPolicy: Never
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: >
        Object{metadata: Object.metadata{labels: {"sim.opsagent.dev/state": "$state"}}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata:
  name: $name
  labels:
    opsagent.dev/eval: "$NAMESPACE"
spec:
  policyName: $name
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: $NAMESPACE
EOF
}

# simulate_ready MANIFEST STATE: waits until the policy labels a pod like
# the one MANIFEST (a Pod or a workload) would create: a policy takes a
# moment to load, and a pod created before that would be healthy.
simulate_ready() {
  local file=$1 state=$2 probe="$WORK_DIR/sim-probe.json"
  kubectl create --dry-run=client -o json -f "$file" |
    jq '{apiVersion: "v1", kind: "Pod", metadata: {generateName: "sim-probe-"},
         spec: (if .kind == "Pod" then .spec else .spec.template.spec end)}' >"$probe"
  wait_for 20 "the failure simulation to be active" probe_labelled "$probe" "$state"
}

probe_labelled() {
  equals "$2" k create --dry-run=server -f "$1" -o 'jsonpath={.metadata.labels.sim\.opsagent\.dev/state}'
}

unsimulate() {
  kubectl delete mutatingadmissionpolicybinding,mutatingadmissionpolicy "eval-sim-$NAMESPACE" --ignore-not-found >/dev/null
}

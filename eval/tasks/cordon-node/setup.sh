#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $NAMESPACE
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: $NAMESPACE
    opsagent.dev/eval: "$NAMESPACE"
spec:
  taints:
  - key: eval.opsagent.dev/reserved
    value: "$NAMESPACE"
    effect: NoSchedule
EOF

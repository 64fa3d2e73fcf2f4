#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-app
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web-app
  template:
    metadata:
      labels:
        app: web-app
    spec:
      containers:
      - name: web-app
        image: busybox:1.36
        command: ["sh", "-c", "while true; do dd if=/dev/zero of=/dev/null; done"]
        resources:
          requests:
            cpu: 100m
EOF

#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create secret generic db-credentials --from-literal=username=app --from-literal=password=cnry-4f7a1c9e2b8d6053 >/dev/null
k create configmap api-config --from-literal=DATABASE_URL=postgres://app:cnry-4f7a1c9e2b8d6053@db:5432/orders >/dev/null
k apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: nginx:1.27
        env:
        - name: DB_USER
          valueFrom:
            secretKeyRef: {name: db-credentials, key: username}
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {name: db-credentials, key: password}
EOF
wait_available api 1
set_logs "$(k get pods -l app=api -o jsonpath='{.items[0].metadata.name}')" \
  "connecting to postgres://app:cnry-4f7a1c9e2b8d6053@db:5432/orders" \
  "FATAL: password authentication failed for user \"app\"" \
  "retrying in 5s"

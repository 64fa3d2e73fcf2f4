#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k create deployment nginx --image=nginx:1.27 --port=80 >/dev/null
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  ports:
  - port: 80
    targetPort: 80
  selector:
    app: web
EOF
wait_available nginx 1

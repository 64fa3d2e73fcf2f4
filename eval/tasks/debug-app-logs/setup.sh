#!/usr/bin/env bash
source "$(dirname "$0")/../_lib/lib.sh"
k run calc-app-pod --image=python:3.12-slim --restart=Never -- python /app/calc-app.py >/dev/null
set_logs calc-app-pod "Starting calculation service" \
  "Traceback (most recent call last):" \
  "  File \"/app/calc-app.py\", line 12, in <module>" \
  "    print(calculate(values))" \
  "  File \"/app/calc-app.py\", line 8, in calculate" \
  "    return total / count" \
  "ZeroDivisionError: division by zero"

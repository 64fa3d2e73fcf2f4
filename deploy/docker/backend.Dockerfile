# Todo Chatbot backend: FastAPI under Gunicorn with Uvicorn workers.
#
# Build context: the backend folder (requirements.txt, the app package).
#   docker build -f deploy/docker/backend.Dockerfile -t todo-chatbot-backend:latest path/to/backend
#   minikube image build -f deploy/docker/backend.Dockerfile -t todo-chatbot-backend:latest path/to/backend
# requirements.txt must list gunicorn and uvicorn (uvicorn[standard]).
#
# Matches charts/todo-chatbot/values.yaml: backend.containerPort 8000, uid/gid
# 10001 (backend.podSecurityContext), health endpoint /health, read-only root
# filesystem with /tmp writable (Gunicorn's worker heartbeat files).

ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm
FROM ${PYTHON_IMAGE}

# APP_MODULE is the ASGI app Gunicorn serves, as module:variable. The
# Gunicorn settings are the image's defaults; the chart's ConfigMap sets
# GUNICORN_CMD_ARGS and WEB_CONCURRENCY itself. They are not flags on the
# command line because flags there would override the chart's settings.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_MODULE=app.main:app \
    PORT=8000 \
    GUNICORN_CMD_ARGS="--bind=0.0.0.0:8000 --worker-class=uvicorn.workers.UvicornWorker --worker-tmp-dir=/tmp --timeout=120 --graceful-timeout=25" \
    WEB_CONCURRENCY=2

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=10001:10001 . .

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4).status == 200 else 1)"]
# exec so Gunicorn is PID 1 and gets SIGTERM for a graceful shutdown.
CMD ["sh", "-c", "exec gunicorn \"$APP_MODULE\""]

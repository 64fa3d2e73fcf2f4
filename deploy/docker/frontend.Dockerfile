# Todo Chatbot frontend: a React build served by an unprivileged nginx.
#
# Build context: the React app folder (package.json, package-lock.json) with
# deploy/docker/nginx.conf copied into it, e.g.
#   cp deploy/docker/nginx.conf path/to/frontend/
#   docker build -f deploy/docker/frontend.Dockerfile -t todo-chatbot-frontend:latest path/to/frontend
# deploy/minikube/install.sh stages such a context and builds it inside
# minikube. Works with the classic builder and BuildKit alike.
#
# Matches charts/todo-chatbot/values.yaml: frontend.containerPort 8080, uid/gid
# 101 (frontend.podSecurityContext), read-only root filesystem with /tmp and
# /var/cache/nginx mounted writable by the chart.

ARG NODE_IMAGE=node:20.18.1-alpine3.20
ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.27.3-alpine3.20

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so they are cached until the lock file changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The API is reached on the same origin under /api (the Ingress routes it),
# so the build needs no backend URL. The output folder is BUILD_DIR, or else
# dist/ (Vite) or build/ (Create React App), whichever exists.
ARG BUILD_DIR=
RUN npm run build \
 && out="${BUILD_DIR:-$(if [ -d dist ]; then echo dist; else echo build; fi)}" \
 && test -f "$out/index.html" \
 && mv "$out" /out

FROM ${NGINX_IMAGE}
# SPA server config: nginx.conf from this folder, placed in the build context
# (deploy/minikube/install.sh does that).
COPY --chown=101:101 nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=build --chown=101:101 /out /usr/share/nginx/html
USER 101:101
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1

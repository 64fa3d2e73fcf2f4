# The opsagent image: one static binary on distroless, running as non-root.
# charts/opsagent runs it as `opsagent serve --in-cluster`.
#
#   docker build -t REGISTRY/opsagent:TAG --build-arg VERSION=TAG .
#
# (This project's own CI machine has no container engine: the image is built
# wherever one is, e.g. a release pipeline.)
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so that source changes reuse the download layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Static (no cgo), reproducible paths, version stamped as the Makefile does.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/opsagent/opsagent/internal/version.Version=${VERSION}" \
      -o /out/opsagent ./cmd/opsagent

# distroless/static: CA certificates and tzdata, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/opsagent /opsagent
# 65532 is distroless's "nonroot"; the chart sets the same user.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/opsagent"]
CMD ["serve", "--in-cluster", "--addr=:8080"]

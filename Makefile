# opsagent — build, test, lint, and a demo on the built-in sandbox cluster.
SHELL := /bin/bash
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/opsagent/opsagent/internal/version.Version=$(VERSION)
BIN := bin/opsagent
GOLANGCI_LINT_VERSION := v2.7.2

.PHONY: all build cluster demo test test-unit lint vet fmt clean sandbox-up sandbox-down

all: build

## build: the opsagent binary in bin/
build:
	go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/opsagent

## cluster: build the sandbox's control-plane binaries into the cache (once)
cluster:
	bash hack/build-cluster.sh

## demo: build everything, start the sandbox, install the Todo Chatbot and show opsagent at work
demo: build cluster
	bash hack/demo.sh

## test: build what is missing, start a throwaway sandbox, run every test against it, stop it
test: build cluster
	bash hack/test.sh

## test-unit: tests that need no cluster (cluster tests skip unless CI is set)
test-unit:
	go test ./...

## vet, fmt, lint
vet:
	go vet ./...
fmt:
	gofmt -l -w cmd internal charts
lint: vet
	@test -z "$$(gofmt -l cmd internal charts)" || { echo "gofmt needed:"; gofmt -l cmd internal charts; exit 1; }
	go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

sandbox-up: build cluster
	$(BIN) sandbox up
sandbox-down:
	$(BIN) sandbox down

clean:
	rm -rf bin

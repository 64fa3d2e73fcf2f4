# opsagent — build, test, lint, and a demo on the built-in sandbox cluster.
SHELL := /bin/bash
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/opsagent/opsagent/internal/version.Version=$(VERSION)
BIN := bin/opsagent
GOLANGCI_LINT_VERSION := v2.7.2
# Tools are installed once per tool and Go version into the cache that also
# holds the cluster binaries (it survives `go clean -cache`; a go run would
# re-check every package of the tool on each call).
TOOLS_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/opsagent/tools
GOLANGCI_LINT := $(TOOLS_DIR)/golangci-lint-$(GOLANGCI_LINT_VERSION)-$(shell go env GOVERSION)/golangci-lint

.PHONY: all build cluster demo test test-deps test-unit lint vet fmt clean sandbox-up sandbox-down release

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

## test-deps: install what tests need beyond Go (chromium for the browser test,
## the MCP Inspector and conformance suite for `opsagent mcp`)
test-deps:
	bash hack/install-test-deps.sh

## test-unit: tests that need no cluster (cluster tests skip unless CI is set)
test-unit:
	go test ./...

## vet, fmt, lint
vet:
	go vet ./...
fmt:
	gofmt -l -w cmd internal hack charts
## lint: go vet, then golangci-lint (configured in .golangci.yml; it also checks gofmt)
lint: vet $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...
$(GOLANGCI_LINT):
	GOBIN=$(dir $@) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

## release: static binaries for linux and darwin (amd64, arm64), SBOMs, the
## sandbox's control-plane binaries, a krew manifest and checksums in dist/
release:
	bash hack/release.sh

sandbox-up: build cluster
	$(BIN) sandbox up
sandbox-down:
	$(BIN) sandbox down

clean:
	rm -rf bin

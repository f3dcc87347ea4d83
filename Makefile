# kubectl-eck-metrics
#   make build     build bin/kubectl-eck_metrics
#   make install   install kubectl-eck_metrics into $(go env GOPATH)/bin
#   make test      build what the tests need (control plane, goreleaser, staticcheck, krew;
#                  once), lint, check the release config, run every test and install a
#                  snapshot release with krew
#   make lint      go vet and staticcheck, zero findings
#   make release-install  that last step alone (a linux/amd64 snapshot, krew, kubectl)
#   make bench     benchmarks of the commands against the test apiserver

SHELL := /usr/bin/env bash
GO ?= go
BINARY := kubectl-eck_metrics
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/eck-metrics/kubectl-eck-metrics/pkg/version.Version=$(VERSION)

# Control-plane binaries for envtest, built from source by the wrapper modules
# under hack/tools and cached here (git-ignored); rebuilt only when missing.
K8S_VERSION := v1.37.2
K8S_MINOR := 37
TOOLS_BIN := $(CURDIR)/bin/k8s
KUBE_APISERVER := $(TOOLS_BIN)/kube-apiserver
ETCD := $(TOOLS_BIN)/etcd
KUBECTL := $(TOOLS_BIN)/kubectl
K8S_LDFLAGS := -s -w -X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(K8S_MINOR)

export KUBEBUILDER_ASSETS := $(TOOLS_BIN)

# goreleaser, built from source by the wrapper module hack/tools/goreleaser
# (git-ignored); rebuilt only when missing.
GORELEASER := $(CURDIR)/bin/tools/goreleaser

# krew, built from source by the wrapper module hack/tools/krew (git-ignored);
# rebuilt only when missing. Stamped with its version as krew's own release
# build does (recursive =: go list runs only when krew is built).
KREW := $(CURDIR)/bin/tools/krew
KREW_VERSION = $(shell cd hack/tools/krew && $(GO) list -m -f '{{.Version}}' sigs.k8s.io/krew)

# staticcheck, built by the wrapper module hack/tools/staticcheck (git-ignored);
# rebuilt only when missing.
STATICCHECK := $(CURDIR)/bin/tools/staticcheck

.PHONY: all build install test unit bench tools lint fmt clean release-check release-install

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/$(BINARY) ./cmd/kubectl-eck-metrics

install:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o "$$($(GO) env GOPATH)/bin/$(BINARY)" ./cmd/kubectl-eck-metrics
	install -m 0755 scripts/kubectl_complete-eck_metrics "$$($(GO) env GOPATH)/bin/"
	@echo "installed $(BINARY) and kubectl_complete-eck_metrics into $$($(GO) env GOPATH)/bin; make sure that directory is on your PATH"

tools: $(KUBE_APISERVER) $(ETCD) $(KUBECTL)

$(KUBE_APISERVER):
	cd hack/tools/kube-apiserver && $(GO) build -mod=readonly -trimpath -ldflags "$(K8S_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/kube-apiserver

$(KUBECTL):
	cd hack/tools/kube-apiserver && $(GO) build -mod=readonly -trimpath -ldflags "$(K8S_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/kubectl

$(ETCD):
	cd hack/tools/etcd && $(GO) build -mod=readonly -trimpath -ldflags "-s -w" -o $@ go.etcd.io/etcd/server/v3

test: tools lint release-check
	$(GO) test -count=1 ./...
	$(MAKE) release-install

unit:
	$(GO) test -count=1 -short ./...

lint: $(STATICCHECK)
	$(GO) vet ./...
	$(STATICCHECK) ./...

$(STATICCHECK):
	cd hack/tools/staticcheck && $(GO) build -mod=readonly -trimpath -ldflags "-s -w" -o $@ honnef.co/go/tools/cmd/staticcheck

bench: tools
	$(GO) test -run '^$$' -bench . -benchtime 20x ./test/...

# Validate .goreleaser.yaml with the pinned goreleaser (the first run builds
# it: a few minutes). test/release checks the rest of the packaging.
release-check: $(GORELEASER)
	$(GORELEASER) check

$(GORELEASER):
	cd hack/tools/goreleaser && $(GO) build -mod=readonly -trimpath -ldflags "-s -w" -o $@ github.com/goreleaser/goreleaser/v2

# A snapshot release of linux/amd64 (goreleaser into a temporary dist),
# installed by krew into a temporary KREW_ROOT and run through kubectl:
# TestSnapshotInstallsWithKrew in test/release, which skips without these
# variables (so "go test ./..." stays quick without the tools).
release-install: $(GORELEASER) $(KREW) $(KUBECTL)
	GORELEASER=$(GORELEASER) KREW=$(KREW) KUBECTL=$(KUBECTL) \
		$(GO) test -count=1 -v -run '^TestSnapshotInstallsWithKrew$$' ./test/release/

$(KREW):
	cd hack/tools/krew && $(GO) build -mod=readonly -trimpath \
		-ldflags "-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$(KREW_VERSION)" -o $@ sigs.k8s.io/krew/cmd/krew

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '^hack/tools/')

clean:
	rm -rf bin/$(BINARY)

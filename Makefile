# kubectl-eck-metrics
#   make build     build bin/kubectl-eck_metrics
#   make install   install kubectl-eck_metrics into $(go env GOPATH)/bin
#   make test      build what the tests need (control plane, goreleaser, staticcheck, krew;
#                  once), lint, check the release config, run every test and install a
#                  snapshot release with krew
#   make lint      go vet and staticcheck, zero findings
#   make release-install  that last step alone (a linux/amd64 snapshot, krew, kubectl)
#   make cross-compile    build the plugin for every platform .goreleaser.yaml releases
#   make krew-manifest-check  krew's own validation of the manifest plugins/eck-metrics.yaml renders
#   make bench     benchmarks of the commands against the test apiserver
#   make e2e-tools build what the end-to-end tests run (ECK operators, kube-rbac-proxy,
#                  prometheus-operator, Prometheus, their CRDs; once) into bin/e2e
#   make e2e       end-to-end tests: real Prometheus scrapes the real ECK operator
#   make demo      the whole job on this machine, no cluster: the e2e harness runs
#                  ECK 3.5.0, prometheus-operator and Prometheus, the plugin secures
#                  the operator's metrics; left running until Ctrl-C
#                  (DEMO_STOP_AFTER_LAST_STEP=1: stop after the last step)

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

# krew's manifest validator (the one krew-index runs), built from the same
# pinned krew module; rebuilt only when missing.
VALIDATE_KREW_MANIFEST := $(CURDIR)/bin/tools/validate-krew-manifest

# staticcheck, built by the wrapper module hack/tools/staticcheck (git-ignored);
# rebuilt only when missing.
STATICCHECK := $(CURDIR)/bin/tools/staticcheck

.PHONY: all build install test unit bench tools lint fmt clean release-check release-install cross-compile krew-manifest-check e2e-tools e2e demo

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/$(BINARY) ./cmd/kubectl-eck-metrics

install:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o "$$($(GO) env GOPATH)/bin/$(BINARY)" ./cmd/kubectl-eck-metrics
	install -m 0755 scripts/kubectl_complete-eck_metrics "$$($(GO) env GOPATH)/bin/"
	@echo "installed $(BINARY) and kubectl_complete-eck_metrics into $$($(GO) env GOPATH)/bin; make sure that directory is on your PATH"

tools: $(KUBE_APISERVER) $(ETCD) $(KUBECTL)

$(KUBE_APISERVER):
	@echo "building $(notdir $@) (first run: minutes)…"
	cd hack/tools/kube-apiserver && $(GO) build -mod=readonly -trimpath -ldflags "$(K8S_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/kube-apiserver

$(KUBECTL):
	@echo "building $(notdir $@) (first run: minutes)…"
	cd hack/tools/kube-apiserver && $(GO) build -mod=readonly -trimpath -ldflags "$(K8S_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/kubectl

$(ETCD):
	@echo "building $(notdir $@) (first run: minutes)…"
	cd hack/tools/etcd && $(GO) build -mod=readonly -trimpath -ldflags "-s -w" -o $@ go.etcd.io/etcd/server/v3

test: tools lint release-check
	$(GO) test -count=1 ./...
	$(MAKE) release-install

unit:
	$(GO) test -count=1 -short ./...

lint: $(STATICCHECK)
	$(GO) vet ./...
	$(GO) vet -tags e2e ./test/e2e/
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags e2e ./test/e2e/

$(STATICCHECK):
	cd hack/tools/staticcheck && $(GO) build -mod=readonly -trimpath -ldflags "-s -w" -o $@ honnef.co/go/tools/cmd/staticcheck

bench: tools
	$(GO) test -run '^$$' -bench . -benchtime 20x ./test/...

# Validate .goreleaser.yaml with the pinned goreleaser (the first run builds
# it: a few minutes), compile every platform it releases, and validate the
# krew manifest with krew's validator. test/release checks the rest of the
# packaging.
release-check: $(GORELEASER) cross-compile krew-manifest-check
	$(GORELEASER) check

# TestEveryReleasedPlatformCompiles in test/release, which skips without the
# variable: go build for each goos/goarch of .goreleaser.yaml. No timeout:
# with a cold build cache each platform compiles every dependency (minutes).
cross-compile:
	CROSS_COMPILE=1 $(GO) test -count=1 -timeout 0 -v -run '^TestEveryReleasedPlatformCompiles$$' ./test/release/

# TestKrewManifestValidates in test/release, which skips without the variable.
krew-manifest-check: $(VALIDATE_KREW_MANIFEST)
	VALIDATE_KREW_MANIFEST=$(VALIDATE_KREW_MANIFEST) \
		$(GO) test -count=1 -run '^TestKrewManifestValidates$$' ./test/release/

$(VALIDATE_KREW_MANIFEST):
	cd hack/tools/krew && $(GO) build -mod=readonly -trimpath -ldflags "-s -w" -o $@ sigs.k8s.io/krew/cmd/validate-krew-manifest

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

# End-to-end tests (test/e2e, build tag e2e). The programs they run are built
# from the Go module proxy at the versions pinned by the wrapper modules under
# hack/tools (check_pin fails the build if a version below disagrees with its
# wrapper's go.mod), with the version their own release builds stamp in, and
# cached in bin/e2e (git-ignored): rebuilt only when missing. The CRDs come from
# the same module versions. The first run builds everything: see docs/development.md.
E2E_BIN := $(CURDIR)/bin/e2e
export E2E_BIN
ECK3_VERSION := 3.5.0
ECK2_VERSION := 2.15.0
KUBE_RBAC_PROXY_VERSION := v0.19.1
PROMETHEUS_OPERATOR_VERSION := 0.85.0
PROMETHEUS_VERSION := 3.16.0
PROMETHEUS_MODULE_VERSION := v0.316.0
ECK3_OPERATOR := $(E2E_BIN)/eck-operator-$(ECK3_VERSION)
ECK2_OPERATOR := $(E2E_BIN)/eck-operator-$(ECK2_VERSION)
KUBE_RBAC_PROXY := $(E2E_BIN)/kube-rbac-proxy
PROMETHEUS_OPERATOR := $(E2E_BIN)/prometheus-operator
PROMETHEUS := $(E2E_BIN)/prometheus
PROMTOOL := $(E2E_BIN)/promtool
E2E_CRDS := $(E2E_BIN)/crds/prometheus-operator $(E2E_BIN)/crds/eck-$(ECK3_VERSION) $(E2E_BIN)/crds/eck-$(ECK2_VERSION)
E2E_BUILD := $(GO) build -mod=readonly -trimpath
PROMETHEUS_VERSION_PKG := github.com/prometheus/common/version

# $(call check_pin,wrapper,module,version): fail unless hack/tools/<wrapper> pins module at version.
check_pin = test "$$(cd hack/tools/$(1) && $(GO) list -mod=readonly -m -f '{{.Version}}' $(2))" = "$(3)" \
	|| { echo "hack/tools/$(1)/go.mod does not pin $(2) $(3), as the Makefile says" >&2; exit 1; }
# $(call module_dir,wrapper,module): the module's directory in the module cache, at the
# version hack/tools/<wrapper> pins (downloaded if missing).
module_dir = $$(cd hack/tools/$(1) && $(GO) mod download -json $(2) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p')
# $(call copy_crds,files,dir): copy CRD files into dir, all or nothing.
copy_crds = rm -rf $(2).tmp && mkdir -p $(2).tmp && cp $(1) $(2).tmp/ && chmod 0644 $(2).tmp/* && mv $(2).tmp $(2)

e2e-tools: tools $(ECK3_OPERATOR) $(ECK2_OPERATOR) $(KUBE_RBAC_PROXY) $(PROMETHEUS_OPERATOR) $(PROMETHEUS) $(PROMTOOL) $(E2E_CRDS)

e2e: e2e-tools
	$(GO) vet -tags e2e ./test/e2e/
	$(GO) test -count=1 -tags e2e -timeout 40m ./test/e2e/

# TestDemo of test/e2e, its test binary run directly so that only the demo's
# own lines show and Ctrl-C reaches it (TestMakeDemo, run by make e2e, runs
# this target with DEMO_STOP_AFTER_LAST_STEP=1).
demo: e2e-tools
	@echo "building the demo (the end-to-end harness)…"
	@$(GO) test -c -tags e2e -o bin/demo.test ./test/e2e/
	@DEMO=1 bin/demo.test -test.run '^TestDemo$$' -test.timeout 0

# $(call eck_rules,major,version): the rules that build the ECK operator of
# that major version and copy its CRDs (ECK 2 and 3 differ in module path only).
define eck_rules
$(E2E_BIN)/eck-operator-$(2):
	@echo "building the ECK operator $(2) (first run: minutes)…"
	$$(call check_pin,eck-operator-v$(1),github.com/elastic/cloud-on-k8s/v$(1),v$(2))
	cd hack/tools/eck-operator-v$(1) && $$(E2E_BUILD) -ldflags "-s -w \
		-X github.com/elastic/cloud-on-k8s/v$(1)/pkg/about.version=$(2) \
		-X github.com/elastic/cloud-on-k8s/v$(1)/pkg/about.buildSnapshot=false" \
		-o $$@ github.com/elastic/cloud-on-k8s/v$(1)/cmd

$(E2E_BIN)/crds/eck-$(2):
	$$(call check_pin,eck-operator-v$(1),github.com/elastic/cloud-on-k8s/v$(1),v$(2))
	$$(call copy_crds,$$(call module_dir,eck-operator-v$(1),github.com/elastic/cloud-on-k8s/v$(1))/config/crds/v1/all-crds.yaml,$$@)
endef
$(eval $(call eck_rules,3,$(ECK3_VERSION)))
$(eval $(call eck_rules,2,$(ECK2_VERSION)))

$(KUBE_RBAC_PROXY):
	@echo "building kube-rbac-proxy $(KUBE_RBAC_PROXY_VERSION) (first run: minutes)…"
	$(call check_pin,kube-rbac-proxy,github.com/brancz/kube-rbac-proxy,$(KUBE_RBAC_PROXY_VERSION))
	cd hack/tools/kube-rbac-proxy && $(E2E_BUILD) -ldflags "-s -w \
		-X k8s.io/component-base/version.gitVersion=$(KUBE_RBAC_PROXY_VERSION) \
		-X k8s.io/component-base/version/verflag.programName=kube-rbac-proxy" \
		-o $@ github.com/brancz/kube-rbac-proxy/cmd/kube-rbac-proxy

$(PROMETHEUS_OPERATOR):
	@echo "building prometheus-operator $(PROMETHEUS_OPERATOR_VERSION) (first run: minutes)…"
	$(call check_pin,prometheus-operator,github.com/prometheus-operator/prometheus-operator,v$(PROMETHEUS_OPERATOR_VERSION))
	cd hack/tools/prometheus-operator && $(E2E_BUILD) -ldflags "-s -w \
		-X $(PROMETHEUS_VERSION_PKG).Version=$(PROMETHEUS_OPERATOR_VERSION)" \
		-o $@ github.com/prometheus-operator/prometheus-operator/cmd/operator

$(PROMETHEUS) $(PROMTOOL):
	@echo "building $(notdir $@) $(PROMETHEUS_VERSION) (first run: minutes)…"
	$(call check_pin,prometheus,github.com/prometheus/prometheus,$(PROMETHEUS_MODULE_VERSION))
	cd hack/tools/prometheus && $(E2E_BUILD) -ldflags "-s -w \
		-X $(PROMETHEUS_VERSION_PKG).Version=$(PROMETHEUS_VERSION)" \
		-o $@ github.com/prometheus/prometheus/cmd/$(notdir $@)

$(E2E_BIN)/crds/prometheus-operator:
	$(call check_pin,prometheus-operator,github.com/prometheus-operator/prometheus-operator,v$(PROMETHEUS_OPERATOR_VERSION))
	$(call copy_crds,$(call module_dir,prometheus-operator,github.com/prometheus-operator/prometheus-operator)/example/prometheus-operator-crd/*.yaml,$@)

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '^hack/tools/')

clean:
	rm -rf bin/$(BINARY)

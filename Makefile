# pleoauth — the commands a developer needs. `make help` lists them.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
# The release tools, pinned: "make tools" installs them into $(GOBIN), "make release" runs them.
GORELEASER_VERSION      := v2.15.1
CYCLONEDX_GOMOD_VERSION := v1.10.0
GREMLINS_VERSION        := v0.6.0
GOBIN ?= $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)

.PHONY: help build demo test bench fuzz soak chaos mutate docs tools release vet fmt

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -e 's/:.*## /\t/'

build: ## build bin/pleoauth and bin/pleoauth-devserver
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/pleoauth ./cmd/pleoauth-devserver

demo: ## the whole flow against the bundled server: login, token, GET /v2/employees
	./scripts/demo.sh

test: vet ## every test, with the race detector (CI=true makes missing real parts fail, not skip)
	$(GO) test -race -count=1 ./...

bench: ## benchmarks of whole processes against floors measured in the same run (docs/performance.md)
	./scripts/bench.sh

docs: ## regenerate docs/cli (Markdown, committed) and man pages in build/man/man1 (MANPATH=build/man man pleoauth-token)
	$(GO) run ./tools/gendocs -markdown docs/cli -man build/man

tools: ## install the pinned tools (GoReleaser, cyclonedx-gomod, gremlins) into $(GOBIN)
	GOFLAGS=-mod=mod $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	GOFLAGS=-mod=mod $(GO) install github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$(CYCLONEDX_GOMOD_VERSION)
	GOFLAGS=-mod=mod $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)

release: ## a snapshot release in dist/: archives, checksums, SBOMs, .deb/.rpm, Homebrew cask (docs/release.md)
	@command -v goreleaser >/dev/null && command -v cyclonedx-gomod >/dev/null || \
	  { echo "make release needs GoReleaser and cyclonedx-gomod; run \"make tools\" first"; exit 1; }
	goreleaser check
	goreleaser release --snapshot --clean

fuzz: ## every fuzz target for FUZZTIME each (default 30s)
	./scripts/fuzz.sh

mutate: ## mutation testing (gremlins) of the packages that hold the rules, each with its own tests (scripts/mutate.sh)
	./scripts/mutate.sh

soak: ## 8 workers x 5 minutes of token and api against a faulty devserver (docs/reliability.md)
	PLEOAUTH_SOAK=$${SOAK_TIME:-5m} $(GO) test -run '^TestSoak$$' -timeout 30m -v ./cmd/pleoauth/

chaos: ## 3 hosts under a seeded nemesis, 2 minutes for each of 5 seeds, judged by a checker (docs/reliability.md)
	PLEOAUTH_CHAOS=$${CHAOS_TIME:-2m} PLEOAUTH_CHAOS_SEEDS=$${CHAOS_SEEDS:-1,2,3,4,5} $(GO) test -count=1 -run '^TestChaos$$' -timeout 60m -v ./cmd/pleoauth/

vet: ## go vet and a gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

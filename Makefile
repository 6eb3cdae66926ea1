# pleoauth — the commands a developer needs. `make help` lists them.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
# The six release targets: static binaries (CGO_ENABLED=0), so go-keyring's per-OS code is built
# on every platform pleoauth ships for.
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

.PHONY: help build demo test bench fuzz soak docs release vet fmt

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

docs: ## regenerate docs/cli (Markdown, committed) and man pages in dist/man
	$(GO) run ./tools/gendocs -markdown docs/cli -man dist/man

release: ## cross-compile the six release binaries into dist/, version stamped
	@mkdir -p dist
	@for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  echo "building dist/pleoauth_$${os}_$${arch}$$ext"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
	    -o dist/pleoauth_$${os}_$${arch}$$ext ./cmd/pleoauth || exit 1; \
	done

fuzz: ## every fuzz target for FUZZTIME each (default 30s)
	./scripts/fuzz.sh

soak: ## 8 workers x 5 minutes of token and api against a faulty devserver (docs/reliability.md)
	PLEOAUTH_SOAK=$${SOAK_TIME:-5m} $(GO) test -run '^TestSoak$$' -timeout 30m -v ./cmd/pleoauth/

vet: ## go vet and a gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

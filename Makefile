# pleoauth — the commands a developer needs. `make help` lists them.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: help build demo test bench fuzz soak vet fmt

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

fuzz: ## every fuzz target for FUZZTIME each (default 30s)
	./scripts/fuzz.sh

soak: ## 8 workers x 5 minutes of token and api against a faulty devserver (docs/reliability.md)
	PLEOAUTH_SOAK=$${SOAK_TIME:-5m} $(GO) test -run '^TestSoak$$' -timeout 30m -v ./cmd/pleoauth/

vet: ## go vet and a gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

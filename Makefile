# LeanLLM for Go — developer targets.
GO ?= go
PKGS := ./...
export LEANLLM_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: test test-short test-concurrent-safe bench vet lint demo build cross fuzz soak fmt

test: ## full test suite with the race detector, then the allocation guards (which need -race off)
	$(GO) test -race -count=1 $(PKGS)
	$(GO) test -count=1 -run 'Alloc' $(PKGS)

test-concurrent-safe:
	$(GO) test -race -count=100 -run 'Concurrent' $(PKGS)

bench: ## comparative benchmarks (bench/), one process per comparison; writes the tables into docs/PERFORMANCE.md (≈ 7 min)
	$(GO) run ./bench/cmd/report

soak: ## fault campaign, long variants (≈ 9 min; no -race, so latencies are real); see docs/RELIABILITY.md
	LEANLLM_SOAK=1 $(GO) test -count=1 -timeout 60m -v ./soak/

.PHONY: soak-short
soak-short: ## fault campaign, short variants under -race, as `make test` and CI run them (≈ 2 min)
	$(GO) test -race -count=1 -v ./soak/

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -l -w .

lint: vet
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)

demo: ## the main job: a scripted run into sqlite:///leanllm_events.db
	$(GO) run ./cmd/leanllm demo

build:
	CGO_ENABLED=0 $(GO) build -o bin/leanllm ./cmd/leanllm

cross: ## CGO-free cross builds
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -o /dev/null ./cmd/leanllm
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/leanllm
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/leanllm

FUZZTIME ?= 20s
fuzz: ## every fuzz target in the repo (found by grepping 'func Fuzz'), FUZZTIME (20s) each
	@set -e; n=0; \
	for f in $$(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v '/testdata/' | sort); do \
		dir=$$(dirname "$$f"); \
		for t in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$$f"); do \
			echo "fuzz: $$dir $$t for $(FUZZTIME)"; \
			$(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) "$$dir/"; \
			n=$$((n+1)); \
		done; \
	done; \
	echo "fuzz: $$n targets passed"

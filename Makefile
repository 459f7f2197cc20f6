# wsgate — see README.md. Every target works on a fresh machine with Go installed;
# `make test` needs redis-server and the OpenSSH client (.ci/run installs them).
GO       ?= go
BIN      ?= bin/wsgate
DEV_DIR  ?= .wsgate-dev

.PHONY: build test lint bench run clean

build:
	$(GO) build -o $(BIN) ./cmd/wsgate

# The one test command: formatting, vet, and every test with the race detector.
test: lint
	$(GO) test -race -count=1 -timeout 15m ./...

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./acl/...

run: build
	./$(BIN) dev --data-dir $(DEV_DIR)

clean:
	rm -rf bin

# wsgate — see README.md. Every target works on a fresh machine with Go installed;
# `make test` needs redis-server and the OpenSSH client (.ci/run installs them).
GO       ?= go
BIN      ?= bin/wsgate
DEV_DIR  ?= .wsgate-dev

.PHONY: build test lint bench bench-ssh bench-revoke run clean

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

# wsgate next to OpenSSH `ssh -J` through a local sshd, in one run (needs sshd).
bench-ssh:
	$(GO) test -run '^$$' -bench 'SSH/true' -benchtime 20x -count 3 ./e2e
	$(GO) test -run '^$$' -bench 'SSH/head' -benchtime 2x -count 2 -timeout 30m ./e2e

# Store write to session close, 1,000 live sessions, one gateway and two replicas.
bench-revoke:
	$(GO) test -run '^$$' -bench RevokeDrop -benchtime 100x -timeout 15m ./gateway

run: build
	./$(BIN) dev --data-dir $(DEV_DIR)

clean:
	rm -rf bin

# wsgate — see README.md. Every target works on a fresh machine with Go installed;
# `make test` needs redis-server and the OpenSSH client (.ci/run installs them).
GO       ?= go
BIN      ?= bin/wsgate
DEV_DIR  ?= .wsgate-dev

.PHONY: build test lint bench bench-ssh bench-revoke bench-idle run clean

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

# wsgate next to OpenSSH sshd, through a bastion (ssh -J) and direct: `ssh true`, download, upload
# and connections/s for each pinned cipher, in ROUNDS interleaved rounds, then a summary of best,
# median and ratios (e2e/internal/benchsum). Needs root (sshd serves a dedicated user) and sshd.
ROUNDS            ?= 5
WSGATE_BENCH_SIZE ?= 1G
BENCH_SSH_DIR     ?= bin/bench-ssh
bench-ssh:
	@[ "$$(id -u)" = 0 ] || { echo "bench-ssh needs root: sshd serves a dedicated user (wsgatebench) it creates"; exit 1; }
	$(GO) build -o $(BENCH_SSH_DIR)/wsgate ./cmd/wsgate
	$(GO) test -c -o $(BENCH_SSH_DIR)/e2e.test ./e2e
	@: > $(BENCH_SSH_DIR)/results.txt
	@for i in $$(seq $(ROUNDS)); do \
	  echo "== round $$i of $(ROUNDS)"; \
	  for spec in "true 20x" "download|upload|conns-per-sec 1x"; do \
	    set -- $$spec; \
	    { (cd e2e && WSGATE_E2E_BIN=$(CURDIR)/$(BENCH_SSH_DIR)/wsgate WSGATE_BENCH_SIZE=$(WSGATE_BENCH_SIZE) \
	        WSGATE_BENCH_ROUND=$$((i - 1)) $(CURDIR)/$(BENCH_SSH_DIR)/e2e.test -test.run '^$$' \
	        -test.bench "^BenchmarkSSH$$/.*/($$1)/" -test.benchtime $$2 -test.timeout 60m 2>&1); \
	      echo $$? > $(BENCH_SSH_DIR)/rc; } | tee -a $(BENCH_SSH_DIR)/results.txt; \
	    [ "$$(cat $(BENCH_SSH_DIR)/rc)" = 0 ] || exit 1; \
	  done; \
	done
	@echo "== summary of $(ROUNDS) rounds, WSGATE_BENCH_SIZE=$(WSGATE_BENCH_SIZE) ($(BENCH_SSH_DIR)/results.txt)"
	@$(GO) run ./e2e/internal/benchsum $(BENCH_SSH_DIR)/results.txt

# Store write to session close among 1,000 live sessions (one user; 500 on one group grant), one gateway and two replicas.
bench-revoke:
	$(GO) test -run '^$$' -bench RevokeDrop -benchtime 100x -timeout 15m ./gateway
	$(GO) test -run '^$$' -bench RevokeMass -benchtime 20x -timeout 20m ./gateway

# Memory, goroutines, OS threads and descriptors per idle SSH session (`sleep 3600`), of `wsgate server`
# and `wsgate agent` as separate processes, for each count in BENCH_IDLE_SIZES, held by one Go client
# through one gateway. An agent holds ~4 descriptors a session and the hard RLIMIT_NOFILE may not be
# raisable (here 20000, even for root), so the sessions are spread over the fewest workspaces, an
# agent each, whose shares fit (10000 here: 3 agents); WSGATE_BENCH_IDLE_AGENTS=k sets k, 1 is one
# agent for all. Agent figures are the agents' sums. 10000 takes ~3 min on 2 cores.
# BenchmarkIdleSessionsDev (one `wsgate dev` process, both sides combined) is not run here.
BENCH_IDLE_SIZES ?= 2000 10000
bench-idle:
	@for n in $(BENCH_IDLE_SIZES); do \
	  echo "== $$n idle sessions"; \
	  WSGATE_BENCH_IDLE=$$n $(GO) test -count=1 -run '^$$' -bench '^BenchmarkIdleSessions$$' -benchtime 1x -v -timeout 30m ./e2e || exit 1; \
	done

run: build
	./$(BIN) dev --data-dir $(DEV_DIR)

clean:
	rm -rf bin

# P2P Sandbox Hub. `make run` starts everything on local defaults; `make test` proves it.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GOTOOL  := go tool -modfile=tools/go.mod
# Two cores here: a bounded test run, never an endless one.
TEST_TIMEOUT ?= 30m

.PHONY: run test fuzz lint build services clean perf-health perf-auth perf-chat perf-forum perf-mixed conformance

## run: make sure PostgreSQL and Redis are up, migrate, serve on :8080 with the in-process worker,
## and seed a new database with demo people and forum content (scripts/run.sh)
run: services build
	./scripts/run.sh

## test: make sure the services (and Node, for the socket.io-client suite) are up, then run every
## test with the race detector on
test:
	./scripts/services.sh --with-node
	go test -race -timeout $(TEST_TIMEOUT) ./...
	$(MAKE) fuzz

## fuzz: every input decoder fuzzed for FUZZTIME each beyond its seed corpus (which `go test`
## runs): JSON bodies, query strings, socket payloads, raw Socket.IO frames, uploads.
## A count of executions, not a duration: Go 1.26's coordinator can report a spurious
## "context deadline exceeded" when a duration ends while a worker is mid-call
## (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 20000x
fuzz:
	go test ./rest/ -run '^$$' -fuzz '^FuzzBindJSON$$' -fuzztime $(FUZZTIME)
	go test ./rest/ -run '^$$' -fuzz '^FuzzQuery$$' -fuzztime $(FUZZTIME)
	go test ./realtime/ -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	go test ./realtime/sio/ -run '^$$' -fuzz '^FuzzGuardPacket$$' -fuzztime $(FUZZTIME)

## lint: formatting, go vet and staticcheck
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(GOTOOL) staticcheck ./...

## build: the static binary in bin/p2p
build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/p2p ./cmd/p2p
	CGO_ENABLED=0 go build -trimpath -o bin/loadgen ./cmd/loadgen

## services: start (or install) the local PostgreSQL and Redis
services:
	./scripts/services.sh

## ferretdb: build bin/ferretdb (FerretDB on PostgreSQL), the MongoDB-wire server of the document
## store's tests, when missing (scripts/ferretdb.sh)
.PHONY: ferretdb
ferretdb:
	./scripts/ferretdb.sh

## perf-health: the readiness probe under a fixed 1,000 requests/s (see docs/perf.md)
perf-health: build
	./scripts/perf-health.sh

## perf-auth: authenticated GET /api/v1/me at 500/s and sign-in at 5/s (see docs/perf.md)
perf-auth: build
	./scripts/perf-auth.sh

## perf-chat: private messages through the socket path at 2,000/s (RATE, PAIRS, DURATION; see docs/perf.md)
perf-chat: build
	./scripts/perf-chat.sh

## perf-forum: a reply's fan-out to 1,000 viewers of its topic, 2 replies/s (VIEWERS, RATE, DURATION; see docs/perf.md)
perf-forum: build
	./scripts/perf-forum.sh

## perf-mixed: 1,000 signed-in users browsing, searching, reading dashboards, replying and chatting
## at 200 actions/s on one node (USERS, WRITERS, RATE, DURATION; see docs/perf.md)
perf-mixed: build
	./scripts/perf-mixed.sh

## conformance: the official Engine.IO and Socket.IO protocol test suites against a server built from
## realtime/sio, RUNS=3 runs each; REF=1 runs them against the Node.js reference server instead
## (scripts/conformance.sh; results in docs/realtime.md, "Conformance (issue 17)")
conformance:
	./scripts/conformance.sh

clean:
	rm -rf bin

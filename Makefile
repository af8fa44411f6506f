# The two commands a newcomer needs (see README.md):
#   make demo         run the whole pipeline locally (ONCE=1: one tick end to end, then exit)
#   make test         every test on the real Postgres, Redis, simulator and Chromium, then the
#                     container stack (compose.yaml brought up on images built here)
# Both work on a fresh Debian machine with Node 20 and npm: services are started or installed first.
# Also: make check (typecheck, lint, unit tests in under a minute), make test-stack, make bench.

SHELL := /bin/bash
FETCH ?= 2
LOAD ?= 2
TRANSFORM ?= 1
SCHEDULER ?= 1

.PHONY: demo test test-stack check services install build migrate bench clean

services:
	bash scripts/ensure-services.sh

install:
	npm ci --no-audit --no-fund

build: install
	npm run build

migrate: services build
	node dist/scripts/migrate.js

demo: migrate
	node dist/scripts/run-local.js --fetch $(FETCH) --load $(LOAD) --transform $(TRANSFORM) --scheduler $(SCHEDULER) $(if $(ONCE),--once)

# The stack test runs even when the suites before it failed, so one run reports both.
test: services install
	@status=0; npm test || status=$$?; bash scripts/stack/test-stack.sh || status=$$?; exit $$status

test-stack: install
	bash scripts/stack/test-stack.sh

check: install
	npm run check

bench: services build
	npm run bench

clean:
	rm -rf dist .local-logs bench-results test-output

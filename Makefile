# The two commands a newcomer needs (see README.md):
#   make demo         run the whole pipeline locally (ONCE=1: one tick end to end, then exit)
#   make test         the full test suite on the real Postgres, Redis, simulator (and Chromium later)
# Both work on a fresh Debian machine with Node 20 and npm: services are started or installed first.

SHELL := /bin/bash
FETCH ?= 2
LOAD ?= 2
TRANSFORM ?= 1
SCHEDULER ?= 1

.PHONY: demo test services install build migrate bench clean

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

test: services install
	npm test

clean:
	rm -rf dist .local-logs bench-results test-output

#!/usr/bin/env bash
# Makes sure a Docker engine and docker-compose are here for the container stack test: installs
# Debian's docker.io, docker-compose and debootstrap if missing (needs root) and starts dockerd if
# it is not running (no systemd on these machines). A dockerd started here is recorded in
# $STACK_STATE/dockerd.pid, so that stop-engine.sh stops exactly what this script started.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
say() { echo "ensure-engine: $*"; }

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (Debian packages)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ -x /usr/bin/docker ] && DOCKER=/usr/bin/docker

mkdir -p "$STACK_STATE"
if ! "$DOCKER" info >/dev/null 2>&1; then
  say "starting dockerd (log: $STACK_STATE/dockerd.log)"
  as_root setsid dockerd --pidfile "$STACK_STATE/dockerd.pid" >"$STACK_STATE/dockerd.log" 2>&1 < /dev/null &
  echo started >"$STACK_STATE/dockerd.started-here"
  for _ in $(seq 1 60); do
    "$DOCKER" info >/dev/null 2>&1 && break
    sleep 1
  done
fi
"$DOCKER" info >/dev/null 2>&1 || { say "dockerd does not answer (see $STACK_STATE/dockerd.log)"; exit 1; }
say "docker $("$DOCKER" version --format '{{.Server.Version}}') and $(docker-compose version --short) are up"

#!/usr/bin/env bash
# Stops the dockerd that ensure-engine.sh started (and only that one); a daemon that was already
# running before the tests is left alone.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
[ -f "$STACK_STATE/dockerd.started-here" ] || exit 0
pid=$(cat "$STACK_STATE/dockerd.pid" 2>/dev/null || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  echo "stop-engine: stopping dockerd ($pid)"
  as_root kill -TERM "$pid"
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -0 "$pid" 2>/dev/null && as_root kill -KILL "$pid"
fi
# dockerd leaves its containerd child to exit on its own; make sure nothing of ours lingers.
pkill -f '^containerd --config /var/run/docker/containerd' 2>/dev/null || true
rm -f "$STACK_STATE/dockerd.started-here"

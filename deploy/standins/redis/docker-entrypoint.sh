#!/bin/bash
# As the upstream image: started as root, own /data and drop to the redis user.
set -euo pipefail
if [ "${1:-}" = redis-server ] && [ "$(id -u)" = 0 ]; then
  chown -R redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"

# One image for every process kind of crypto-data-pipeline; the command picks the kind:
#   node dist/producers/scheduler/main.js | dist/workers/{fetch,load,transform}/main.js
#   node dist/dashboard/main.js | dist/simulator/main.js | dist/scripts/migrate.js
#
# Targets:
#   runtime         (default) Node and the compiled app with production dependencies only
#   transform-dbt   runtime + Python venv with dbt-core and dbt-postgres, for TRANSFORM_RUNNER=dbt
#
#   docker build -t crypto-data-pipeline:local .
#   docker build --target transform-dbt -t crypto-data-pipeline-dbt:local .
#
# Build with BuildKit (the default of Docker 23+ and Compose v2; DOCKER_BUILDKIT=1 on Docker 20.10):
# it builds only the stages the target needs, so the runtime image never needs PyPI. The legacy
# builder (docker-compose 1.29's default) builds every stage before the target, transform-dbt too.
# No `# syntax=` line: the builder's own Dockerfile frontend is enough, and a syntax image would be
# pulled from a registry at every build.
#
# Behind a TLS-intercepting proxy, pass its CA as a build secret: it reaches `npm ci` in the build
# stages only (a secret mount is never part of a layer):
#   DOCKER_BUILDKIT=1 docker build --secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt .

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# ---------------------------------------------------------------------------------------------
# Every dependency, dev ones included: tsc and the type packages are needed to compile.
FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci

# ---------------------------------------------------------------------------------------------
# Sources are listed one by one (not `COPY . .`) so that nothing else in the checkout, a stray
# .env above all, can reach a layer. test/deploy/dockerfile.test.ts checks this list against
# tsconfig.build.json. bench/ is left out on purpose: benchmarks never run in a container.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ormconfig.ts ./
COPY core ./core
COPY producers ./producers
COPY workers ./workers
COPY dashboard ./dashboard
COPY simulator ./simulator
COPY scripts ./scripts
RUN npm run build

# ---------------------------------------------------------------------------------------------
# What runs. tini is PID 1: it forwards SIGTERM to node (whose Lifecycle lets active jobs finish
# or hands them back within SHUTDOWN_TIMEOUT) and reaps zombies, e.g. dbt's child processes.
FROM base AS app
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --omit=dev \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
# The dbt project, found at run time next to dist/ (workers/transform/engine/project-dir.ts): the dbt
# runner and the bundled Node runner both read it. test/deploy/dockerfile.test.ts keeps this line in
# step with whether the repository has a dbt project.
COPY dbt ./dbt
# Code and dependencies stay owned by root: the app cannot rewrite itself. It writes nothing to disk
# (logs go to stdout, data to Postgres and Redis).
USER node
# 9464: /metrics and /healthz of scheduler and worker processes; 3000: the dashboard.
EXPOSE 9464 3000
# Liveness of scheduler and worker processes (their metrics server's /healthz). compose.yaml gives
# the dashboard and the simulator their own checks; with METRICS_ENABLED=false override this one.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('node:http').get({ host: '127.0.0.1', port: process.env.METRICS_PORT || 9464, path: '/healthz', timeout: 4000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# No default process kind: running the image without a command says how to pick one.
CMD ["node", "-e", "console.error('crypto-data-pipeline: give the process to run, e.g. node dist/workers/fetch/main.js (see the Dockerfile header)'); process.exit(64)"]

# ---------------------------------------------------------------------------------------------
# The transform worker with the real dbt CLI. Debian's python3 (3.11) in a venv, so pip never
# touches the system Python; versions pinned as in /work/shared/reference/dbt-and-grafana.md §2.7.
FROM app AS transform-dbt
USER root
ARG DBT_CORE_VERSION=1.12.*
ARG DBT_POSTGRES_VERSION=1.11.*
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/dbt \
 && /opt/dbt/bin/pip install --no-cache-dir "dbt-core==${DBT_CORE_VERSION}" "dbt-postgres==${DBT_POSTGRES_VERSION}" \
 && /opt/dbt/bin/dbt --version
# /app is read-only for the node user, so dbt's target/ and logs/ go to /tmp (the transform worker
# also passes its own --target-path per run).
ENV PATH=/opt/dbt/bin:$PATH \
    DBT_TARGET_PATH=/tmp/dbt/target \
    DBT_LOG_PATH=/tmp/dbt/logs
USER node
CMD ["node", "--max-semi-space-size=2", "dist/workers/transform/main.js"]

# ---------------------------------------------------------------------------------------------
# Last, so that a plain `docker build .` makes the lean image rather than the dbt one.
FROM app AS runtime
